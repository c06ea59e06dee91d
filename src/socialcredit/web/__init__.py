"""The web portal: server-rendered pages (Jinja2, plain HTML forms, no script) over the same
services as the command line and the API, in English and Simplified Chinese.

``socialcredit.web.portal.install_portal(app)`` adds the pages to the API's application;
``web.access.PAGE_ACCESS`` says who may open each one.
"""

__all__: list[str] = []
