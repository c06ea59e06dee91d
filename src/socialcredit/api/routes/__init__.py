"""The API's routers, one module per subject; each calls one service per request."""
