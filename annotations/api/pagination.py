"""Cursor pagination for every list: pages stay fast however deep, and rows added
meanwhile never shift them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db.models import Model, QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.api.serializers import Decorated, cursor_page, errors


class IdCursorPagination(CursorPagination):
    ordering = "id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def decode_cursor(self, request: Request) -> Cursor | None:
        # An unreadable cursor is the caller's mistake (400), not a missing page.
        try:
            return super().decode_cursor(request)
        except NotFound:
            raise ValidationError(
                {"cursor": ["This cursor is not valid; use a next/previous link."]}
            ) from None

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is not None and not (raw.isdigit() and 1 <= int(raw) <= self.max_page_size):
            raise ValidationError(
                {"page_size": [f"A whole number from 1 to {self.max_page_size}."]}
            )
        return super().get_page_size(request) or self.page_size


class NewestFirstPagination(IdCursorPagination):
    ordering = "-id"


class PathOrderPagination(IdCursorPagination):
    """Tags in path order, so a parent comes before its children; a page holds a whole
    taxonomy of the usual size (the IAB content taxonomy has about 610 tags)."""

    ordering = "path"
    page_size = 1000
    max_page_size = 1000


def page_parameters(
    pagination: type[IdCursorPagination] = IdCursorPagination,
) -> list[OpenApiParameter]:
    """The paging query parameters, with the sizes ``pagination`` allows."""
    sizes = f"1 to {pagination.max_page_size}; {pagination.page_size} by default."
    return [
        OpenApiParameter(
            "cursor", str, required=False, description="From a next or previous link."
        ),
        OpenApiParameter("page_size", int, required=False, description=sizes),
    ]


def page_response(
    request: Request,
    view: APIView,
    items: QuerySet[Model],
    output: type[serializers.Serializer],
    *,
    newest_first: bool = False,
    pagination: type[IdCursorPagination] | None = None,
    context: dict[str, Any] | None = None,
) -> Response:
    """One page of ``items`` as ``output``, with next and previous links; by id (the newest
    first when asked), or in the order ``pagination`` names."""
    if pagination is None:
        pagination = NewestFirstPagination if newest_first else IdCursorPagination
    paginator = pagination()
    page = paginator.paginate_queryset(items, request, view=view)
    return paginator.get_paginated_response(output(page, many=True, context=context or {}).data)


def page_schema(
    operation_id: str,
    page: str,
    item: type[serializers.Serializer],
    summary: str,
    *,
    parameters: Sequence[OpenApiParameter | type[serializers.Serializer]] = (),
    error_codes: Sequence[int] = (404,),
    description: str | None = None,
    pagination: type[IdCursorPagination] = IdCursorPagination,
) -> Callable[[Decorated], Decorated]:
    """The schema of a list answered by ``page_response``: pages of ``item`` named ``page``,
    the paging parameters after ``parameters``, and 400 for a bad cursor or filter."""
    return extend_schema(
        operation_id=operation_id,
        parameters=[*parameters, *page_parameters(pagination)],
        responses={200: cursor_page(page, item), **errors(400, *error_codes)},
        summary=summary,
        description=description,
    )
