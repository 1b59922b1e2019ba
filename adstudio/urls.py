"""Root URLs. MEDIA_ROOT is never served wholesale: each media file goes through a view that checks access.

Each app lists its own pages; they share the one `ads:` namespace their names have always had
(`{% url 'ads:share' %}`), so templates and links did not change when the single `ads` app was split.
"""

from django.contrib import admin
from django.http import HttpRequest, HttpResponsePermanentRedirect
from django.urls import include, path, re_path

from adstudio.api.urls import urlpatterns as api_urls
from adstudio.catalog.urls import urlpatterns as catalog_urls
from adstudio.renders.urls import urlpatterns as renders_urls
from adstudio.sharing.urls import urlpatterns as sharing_urls
from adstudio.studio.urls import urlpatterns as studio_urls

admin.site.site_header = "AdStudio admin"
admin.site.site_title = "AdStudio admin"

# Admin pages of the models that moved out of the `ads` app: the model name says where it lives now.
MOVED_ADMIN = {
    "template": "catalog", "dialogueslot": "catalog", "contexttable": "catalog", "phraserecording": "catalog",
    "render": "renders", "sensitiveterm": "trust",
}


def moved_admin(request: HttpRequest, model: str, rest: str) -> HttpResponsePermanentRedirect:
    target = request.get_full_path().replace(f"/admin/ads/{model}/", f"/admin/{MOVED_ADMIN[model]}/{model}/", 1)
    return HttpResponsePermanentRedirect(target)


urlpatterns = [
    re_path(rf"^admin/ads/(?P<model>{'|'.join(MOVED_ADMIN)})/(?P<rest>.*)$", moved_admin),
    path("admin/", admin.site.urls),
    *api_urls,
    path("", include(([*catalog_urls, *renders_urls, *studio_urls, *sharing_urls], "ads"))),
]
