"""The API documentation pages, served under the site's Content-Security-Policy.

Swagger UI runs from files only (its start-up script is fetched with ``?script``).
Redoc's bundle writes its styles into ``<style>`` elements at run time: those it writes
once started carry the nonce it is given (by a script file, see ``redoc_init.js``); the
two it writes while loading, before it can be given one, are allowed by their hashes;
its search index runs in a worker made from a ``blob:`` URL. This page alone gets these
exceptions. Redoc also shows Redocly's logo from their CDN: the policy refuses it (only
this site's files load) and Redoc then leaves it out.
"""

from __future__ import annotations

from csp.constants import NONCE
from csp.decorators import csp_update
from django.utils.decorators import method_decorator
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView


class SwaggerDocsView(SpectacularSwaggerSplitView):
    template_name = "api_docs/swagger_ui.html"


# The scrollbar rules Redoc's bundle inserts as it loads, and the empty element its styles
# start from (the hash of ""); they change only with the drf-spectacular-sidecar release.
REDOC_LOAD_STYLE_HASHES = [
    "'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc='",
    "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",
]


@method_decorator(
    csp_update({"style-src": [NONCE, *REDOC_LOAD_STYLE_HASHES], "worker-src": ["blob:"]}),
    name="dispatch",
)
class RedocDocsView(SpectacularRedocView):
    template_name = "api_docs/redoc.html"
