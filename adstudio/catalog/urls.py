"""The catalog's pages; mounted with the other apps' under the one `ads:` URL namespace (adstudio/urls.py)."""

from django.urls import path

from adstudio.catalog import views

urlpatterns = [
    path("", views.catalog, name="catalog"),
    path("t/<slug:slug>/poster", views.template_poster, name="template_poster"),
    path("t/<slug:slug>/preview.mp4", views.template_preview, name="template_preview"),
]
