"""The fan's order and their ad's page; mounted under the `ads:` URL namespace (adstudio/urls.py)."""

from django.urls import path

from adstudio.renders import views

urlpatterns = [
    path("t/<slug:slug>/", views.personalise, name="personalise"),
    path("r/<uuid:public_id>/", views.render_page, name="render"),
    path("r/<uuid:public_id>/delete/", views.render_delete, name="render_delete"),
    path("r/<uuid:public_id>/preview.jpg", views.render_preview, name="render_preview"),
]
