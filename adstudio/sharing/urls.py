"""Share pages, their media and /verify; mounted under the `ads:` URL namespace (adstudio/urls.py)."""

from django.urls import path

from adstudio.sharing import views

urlpatterns = [
    # Share tokens are secrets.token_urlsafe: letters, digits, "-" and "_", which the slug converter takes.
    path("a/<slug:token>/", views.share, name="share"),
    path("a/<slug:token>/video.mp4", views.share_video, name="share_video"),
    path("a/<slug:token>/poster.jpg", views.share_poster, name="share_poster"),
    path("verify/", views.verify, name="verify"),
]
