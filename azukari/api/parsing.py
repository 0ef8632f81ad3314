"""Reading request bodies and query strings, with one refusal for NUL characters.

PostgreSQL cannot store a NUL in text (the write fails) while SQLite stores it, and a NUL in
a search breaks the full-text query: so no text that reaches the API's schemas may carry
one. The check runs once on the parsed body and query, for every field of every endpoint.
"""

import json
from typing import Any

from django.http import HttpRequest
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext_lazy as _
from ninja.parser import Parser

from azukari.core.errors import DomainError


class NulCharacter(DomainError):
    code = "nul_character"


def _refuse_nul(value: Any, path: tuple[str, ...]) -> None:
    if isinstance(value, str):
        if "\x00" in value:
            raise NulCharacter(
                _("This text contains a NUL character, which is not allowed."),
                field=".".join(path) or "__all__",
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            _refuse_nul(key, path)
            _refuse_nul(item, (*path, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _refuse_nul(item, (*path, str(index)))


class NulRefusingParser(Parser):
    def parse_body(self, request: HttpRequest) -> Any:
        data = json.loads(request.body)
        _refuse_nul(data, ())
        return data

    def parse_querydict(
        self, data: MultiValueDict, list_fields: list[str], request: HttpRequest
    ) -> dict[str, Any]:
        for key, values in data.lists():
            _refuse_nul(key, ())
            for value in values:
                _refuse_nul(value, (key,))
        return super().parse_querydict(data, list_fields, request)
