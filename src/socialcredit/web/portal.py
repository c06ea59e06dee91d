"""Adding the portal's pages to the application that ``api.app.create_app`` builds.

The pages are routers like the API's, included after it, so that the application's one
authorisation dependency (``api.auth.authorise``) runs for them too, looking up each page's
entry in ``web.access.PAGE_ACCESS``. Errors on pages become the HTML error page (a 401 a
redirect to the login form); the API's answers stay JSON.
"""

from collections.abc import AsyncIterator

from fastapi import Depends, FastAPI, Request
from fastapi.routing import iter_route_contexts

from socialcredit.web.access import PAGE_ACCESS
from socialcredit.web.errors import PageBodyLimit, install_page_errors
from socialcredit.web.pages import agency, clerk, office, public, published, resident, verifier

__all__ = ["PAGE_ROUTERS", "install_portal"]

PAGE_ROUTERS = (
    public.router,
    published.router,
    clerk.router,
    resident.router,
    agency.router,
    verifier.router,
    office.router,
)


async def _close_form(request: Request) -> AsyncIterator[None]:
    """A page's form is read by the page (and first by the CSRF check); its uploaded files are
    spooled to temporary files, closed here when the page is done."""
    try:
        yield
    finally:
        await request.close()


def install_portal(app: FastAPI) -> FastAPI:
    """Add every page to ``app`` (built by ``create_app``) and return it."""
    for router in PAGE_ROUTERS:
        app.include_router(router, dependencies=[Depends(_close_form)])
    pages = {
        context.endpoint
        for context in iter_route_contexts(app.routes)
        if any((method, str(context.path)) in PAGE_ACCESS for method in context.methods or ())
    }
    app.state.page_endpoints = frozenset(pages)
    app.state.route_paths = None  # authorise rebuilds its table with the pages in it
    install_page_errors(app)
    app.add_middleware(PageBodyLimit, limit=app.state.settings.api_max_request_bytes)
    return app
