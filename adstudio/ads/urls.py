from django.urls import path

from adstudio.ads import studio, views

app_name = "ads"
urlpatterns = [
    path("", views.catalog, name="catalog"),
    path("t/<slug:slug>/", views.personalise, name="personalise"),
    path("t/<slug:slug>/poster", views.template_poster, name="template_poster"),
    path("t/<slug:slug>/preview.mp4", views.template_preview, name="template_preview"),
    path("t/<slug:slug>/tracks/<int:track_id>.jpg", views.track_thumbnail, name="track_thumbnail"),
    path("studio/<slug:slug>/", studio.studio, name="studio"),
    path("studio/<slug:slug>/track/", studio.choose_track, name="studio_track"),
    path("studio/<slug:slug>/test/", studio.test_render, name="studio_test"),
    path("studio-samples/<slug:key>.jpg", studio.sample_image, name="studio_sample"),
    path("r/<uuid:public_id>/", views.render_page, name="render"),
    path("r/<uuid:public_id>/delete/", views.render_delete, name="render_delete"),
    path("r/<uuid:public_id>/preview.jpg", views.render_preview, name="render_preview"),
    # Share tokens are secrets.token_urlsafe: letters, digits, "-" and "_", which the slug converter takes.
    path("a/<slug:token>/", views.share, name="share"),
    path("a/<slug:token>/video.mp4", views.share_video, name="share_video"),
    path("a/<slug:token>/poster.jpg", views.share_poster, name="share_poster"),
    path("verify/", views.verify, name="verify"),
]
