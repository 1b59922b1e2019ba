"""The admin's studio pages (staff only); mounted under the `ads:` URL namespace (adstudio/urls.py)."""

from django.urls import path

from adstudio.studio import views

urlpatterns = [
    path("t/<slug:slug>/tracks/<int:track_id>.jpg", views.track_thumbnail, name="track_thumbnail"),
    path("studio/<slug:slug>/", views.studio, name="studio"),
    path("studio/<slug:slug>/track/", views.choose_track, name="studio_track"),
    path("studio/<slug:slug>/test/", views.test_render, name="studio_test"),
    path("studio-samples/<slug:key>.jpg", views.sample_image, name="studio_sample"),
]
