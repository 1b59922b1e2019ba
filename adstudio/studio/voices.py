"""The studio's voice banks: a celebrity's licensed recordings, uploaded, analysed and reported on, then linked
to the templates that use that voice. Staff only, like the rest of the studio.

Each upload is stored under a random name and analysed by a task (adstudio.catalog.services), so the page
answers at once; it polls its status URL and reloads when a report is ready.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.shortcuts import render as show
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from adstudio.catalog.models import Template, VoiceBank, VoiceRecording
from adstudio.catalog.services import request_voice_analysis
from adstudio.studio.forms import TemplateVoiceForm, VoiceBankForm, VoiceBankTemplatesForm, VoiceRecordingForm
from adstudio.studio.voicereport import report_rows, total_rows


def _page(request: HttpRequest, title: str, **context: object) -> dict[str, object]:
    return {**admin.site.each_context(request), "title": title, "opts": VoiceBank._meta, **context}


@staff_member_required
@require_http_methods(["GET", "HEAD", "POST"])
def voice_banks(request: HttpRequest) -> HttpResponse:
    """Every celebrity's bank, and the form that starts a new one (the licence is asked up front)."""
    form = VoiceBankForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        bank = form.save(commit=False)
        bank.created_by = request.user if request.user.is_authenticated else None
        bank.save()
        messages.success(request, f"Voice bank for {bank.celebrity} created: upload their recordings below.")
        return redirect(bank)
    banks = VoiceBank.objects.all().prefetch_related("recordings", "templates")
    context = _page(request, "Voice banks", banks=banks, form=form)
    return show(request, "ads/voice_banks.html", context, status=400 if form.errors else 200)


def _bank_page(request: HttpRequest, bank: VoiceBank, upload: VoiceRecordingForm | None = None,
               status: int = 200) -> HttpResponse:
    recordings = [(r, report_rows(r.report) if r.state == VoiceRecording.State.DONE else [])
                  for r in bank.recordings.all()]
    linked = VoiceBankTemplatesForm(initial={"templates": list(bank.templates.values_list("pk", flat=True))})
    totals = bank.totals()
    context = _page(
        request, f"Voice bank: {bank.celebrity}", bank=bank, recordings=recordings,
        totals=total_rows(totals), bank_problems=totals["problems"], upload=upload or VoiceRecordingForm(),
        linked=linked, busy=any(r.busy for r, _ in recordings), max_bytes=settings.VOICE_RECORDING_MAX_BYTES,
    )
    return show(request, "ads/voice_bank.html", context, status=status)


@staff_member_required
@require_safe
def voice_bank(request: HttpRequest, pk: int) -> HttpResponse:
    return _bank_page(request, get_object_or_404(VoiceBank, pk=pk))


@staff_member_required
@require_safe
def voice_bank_status(request: HttpRequest, pk: int) -> JsonResponse:
    """Each recording's analysis state, for the page's poll."""
    bank = get_object_or_404(VoiceBank, pk=pk)
    return JsonResponse({"recordings": {str(r.pk): r.state for r in bank.recordings.all()}})


@staff_member_required
@require_POST
def voice_upload(request: HttpRequest, pk: int) -> HttpResponse:
    bank = get_object_or_404(VoiceBank, pk=pk)
    form = VoiceRecordingForm(request.POST, request.FILES)
    if not form.is_valid():
        return _bank_page(request, bank, upload=form, status=400)
    upload = form.cleaned_data["audio"]
    with transaction.atomic():
        recording = VoiceRecording(bank=bank, original_name=form.original_name, size=upload.size or 0)
        recording.audio.save(upload.name, upload, save=False)
        recording.save()
        request_voice_analysis(recording)  # enqueued when this transaction commits
    messages.success(request, f"Uploaded {recording.original_name}: its report appears here once it is analysed.")
    return redirect(bank)


def _recording(bank_pk: int, pk: int) -> VoiceRecording:
    return get_object_or_404(VoiceRecording, pk=pk, bank_id=bank_pk)


@staff_member_required
@require_POST
def voice_recording_delete(request: HttpRequest, pk: int, recording_pk: int) -> HttpResponse:
    recording = _recording(pk, recording_pk)
    name = recording.original_name
    recording.discard()
    messages.success(request, f"Deleted {name}, with its file.")
    return redirect("ads:voice_bank", pk=pk)


@staff_member_required
@require_POST
def voice_recording_retry(request: HttpRequest, pk: int, recording_pk: int) -> HttpResponse:
    recording = _recording(pk, recording_pk)
    if recording.busy and not recording.stuck:
        messages.error(request, f"Already analysing {recording.original_name}.")
    else:
        request_voice_analysis(recording)
        messages.success(request, f"Analysing {recording.original_name} again.")
    return redirect("ads:voice_bank", pk=pk)


@staff_member_required
@require_POST
def voice_bank_templates(request: HttpRequest, pk: int) -> HttpResponse:
    """Link exactly the chosen templates to this bank (one bank per template: a chosen one leaves its old one)."""
    bank = get_object_or_404(VoiceBank, pk=pk)
    form = VoiceBankTemplatesForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Please choose templates from the list.")
        return redirect(bank)
    chosen = [t.pk for t in form.cleaned_data["templates"]]
    with transaction.atomic():
        Template.objects.filter(voice_bank=bank).exclude(pk__in=chosen).update(voice_bank=None)
        Template.objects.filter(pk__in=chosen).update(voice_bank=bank)
    messages.success(request, f"{len(chosen)} template(s) now use {bank.celebrity}'s voice bank.")
    return redirect(bank)


@staff_member_required
@require_http_methods(["GET", "HEAD", "POST"])
def voice_bank_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask first (what goes: every recording's file, and the link from each template), then delete."""
    bank = get_object_or_404(VoiceBank, pk=pk)
    if request.method == "POST":
        celebrity = bank.celebrity
        with transaction.atomic():
            bank.discard()
        messages.success(request, f"The voice bank for {celebrity} and its recordings were deleted.")
        return redirect("ads:voice_banks")
    context = _page(request, f"Delete the voice bank for {bank.celebrity}?", bank=bank,
                    templates=list(bank.templates.all()), recordings=list(bank.recordings.all()))
    return show(request, "ads/voice_bank_delete.html", context)


@staff_member_required
@require_POST
def template_voice(request: HttpRequest, slug: str) -> HttpResponse:
    """From a template's studio page: which celebrity's bank its voice is made from (or none)."""
    template = get_object_or_404(Template, slug=slug)
    form = TemplateVoiceForm(request.POST)
    if not form.is_valid():
        messages.error(request, "No such voice bank. Pick one from the list.")
        return redirect("ads:studio", slug=template.slug)
    template.voice_bank = form.cleaned_data["voice_bank"]
    template.save(update_fields=["voice_bank", "updated_at"])
    chosen = template.voice_bank
    messages.success(request, f"This template now uses {chosen.celebrity}'s voice bank." if chosen
                     else "This template no longer uses a voice bank.")
    return redirect("ads:studio", slug=template.slug)
