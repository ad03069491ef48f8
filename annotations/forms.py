from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from annotations.models import Project
from annotations.services.projects import EDITABLE_FIELDS
from ml.taxonomy import split_tag_list

MAX_TAXONOMY_BYTES = 5 * 1024 * 1024


class TaxonomyUploadForm(forms.Form):
    FORMAT_CHOICES = [
        ("auto", _("Detect from the file")),
        ("csv", _("CSV, one column per level (IAB layout)")),
        ("lines", _("Text, one path per line (A: B: C)")),
        ("json", _("JSON")),
    ]
    file = forms.FileField(label=_("Taxonomy file"))
    format = forms.ChoiceField(label=_("Format"), choices=FORMAT_CHOICES, initial="auto")

    def clean_file(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["file"]
        if upload.size is not None and upload.size > MAX_TAXONOMY_BYTES:
            raise forms.ValidationError(_("A taxonomy file may be at most 5 MB."))
        return upload

    def text(self) -> str:
        upload: UploadedFile = self.cleaned_data["file"]
        data = upload.read()
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError(_("The file is not UTF-8 text.")) from None


class VideoUploadForm(forms.Form):
    file = forms.FileField(label=_("Video file"))
    title = forms.CharField(label=_("Title"), max_length=500, required=False)
    description = forms.CharField(
        label=_("Description"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    tags = forms.CharField(
        label=_("Known tags"),
        required=False,
        help_text=_("Comma-separated tag paths, e.g. «Спорт: Футбол, Транспорт». Optional."),
    )

    def clean_file(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["file"]
        if upload.size is not None and upload.size > settings.MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("The file is larger than the upload limit (%(limit)s bytes)."),
                params={"limit": settings.MAX_UPLOAD_BYTES},
            )
        return upload

    def tag_paths(self) -> list[str]:
        return split_tag_list(self.cleaned_data.get("tags") or "")


class ProjectForm(forms.ModelForm):
    """A project's settings, as an admin sets them when creating or editing it."""

    class Meta:
        model = Project
        fields = list(EDITABLE_FIELDS)
        widgets = {
            "labeling_mode": forms.RadioSelect,
            "queue_order": forms.RadioSelect,
            "guidelines": forms.Textarea(attrs={"rows": 12, "class": "markdown"}),
            "review_majority_share": forms.NumberInput(attrs={"step": "0.05"}),
        }
        help_texts = {
            "annotators_per_video": _(
                "How many people label each video; with more than one, their agreement "
                "is measured and disagreements go to review."
            ),
            "queue_order": _("The order in which the queue hands out videos."),
            "guidelines": _(
                "What annotators should know, in Markdown (headings, lists, **bold**, links). "
                "Shown on the labeling screen."
            ),
            "taxonomy_name": _("Where the tags come from, e.g. IAB 3.0. Optional."),
        }
