from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect


def home(request: HttpRequest) -> HttpResponse:
    return redirect("case-list")


def case_list(request):
    raise NotImplementedError


def case_detail(request, case_id):
    raise NotImplementedError


def language_set(request):
    raise NotImplementedError
