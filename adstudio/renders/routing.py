from django.urls import path

from adstudio.renders.consumers import RenderConsumer

websocket_urlpatterns = [path("ws/renders/<uuid:public_id>/", RenderConsumer.as_asgi())]
