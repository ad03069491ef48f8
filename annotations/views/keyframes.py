from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.cache import cache_control

from annotations.selectors import get_video_for_user
from annotations.views.requests import AuthenticatedHttpRequest


@login_required
@cache_control(private=True, max_age=3600)
def keyframe_image(
    request: AuthenticatedHttpRequest, video_id: int, keyframe_id: int
) -> FileResponse:
    """A keyframe thumbnail, only for those who may see its video (media files are not public)."""
    video = get_video_for_user(request.user, video_id)
    keyframe = get_object_or_404(video.keyframes, pk=keyframe_id)
    return FileResponse(keyframe.image.open("rb"), content_type="image/jpeg")
