"""Root URLs. MEDIA_ROOT is never served wholesale: each media file goes through a view that checks access."""

from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "AdStudio admin"
admin.site.site_title = "AdStudio admin"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("adstudio.ads.urls")),
]
