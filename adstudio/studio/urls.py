"""The admin's studio pages (staff only); mounted under the `ads:` URL namespace (adstudio/urls.py)."""

from django.urls import path

from adstudio.studio import views, voices

urlpatterns = [
    path("t/<slug:slug>/tracks/<int:track_id>.jpg", views.track_thumbnail, name="track_thumbnail"),
    path("studio/<slug:slug>/", views.studio, name="studio"),
    path("studio/<slug:slug>/track/", views.choose_track, name="studio_track"),
    path("studio/<slug:slug>/test/", views.test_render, name="studio_test"),
    path("studio/<slug:slug>/voice/", voices.template_voice, name="studio_voice"),
    path("studio-samples/<slug:key>.jpg", views.sample_image, name="studio_sample"),
    # Voice banks live beside the templates' studio pages (a template's slug could be "voices").
    path("studio-voices/", voices.voice_banks, name="voice_banks"),
    path("studio-voices/<int:pk>/", voices.voice_bank, name="voice_bank"),
    path("studio-voices/<int:pk>/status.json", voices.voice_bank_status, name="voice_bank_status"),
    path("studio-voices/<int:pk>/upload/", voices.voice_upload, name="voice_upload"),
    path("studio-voices/<int:pk>/templates/", voices.voice_bank_templates, name="voice_bank_templates"),
    path("studio-voices/<int:pk>/delete/", voices.voice_bank_delete, name="voice_bank_delete"),
    path("studio-voices/<int:pk>/recordings/<int:recording_pk>/delete/", voices.voice_recording_delete,
         name="voice_recording_delete"),
    path("studio-voices/<int:pk>/recordings/<int:recording_pk>/retry/", voices.voice_recording_retry,
         name="voice_recording_retry"),
]
