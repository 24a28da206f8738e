"""The live webcam protocol in the browser (streamlit-webrtc), a thin shell over posture.live.

The frame callback runs in a worker thread: it only calls ``LiveProtocol.process`` on the
protocol object of this browser session (kept in ``st.session_state``, so it survives
reruns) and never calls ``st.*``. The page polls ``LiveProtocol.status`` while the
stream plays and reruns once the protocol is done.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np
import streamlit as st

from app.analysis import env_number
from posture.io.text_safety import escape_markdown
from posture.live import STEP_NAMES, LiveProtocol
from posture.measures import rom_labels

# The person in front of the camera reads the status: plain words in every mode.
PATIENT_ROM_LABELS = rom_labels("patient")

if TYPE_CHECKING:
    import av

ICE_ENV = "POSTURE_ICE_SERVERS"
STEP_TIMEOUT_ENV = "POSTURE_LIVE_STEP_TIMEOUT_S"
# Only what the protocol needs: video, about 640x480 (the speed target), no audio.
MEDIA_CONSTRAINTS = {
    "video": {"width": {"ideal": 640}, "height": {"ideal": 480}, "frameRate": {"ideal": 30}},
    "audio": False,
}


def rtc_configuration() -> dict[str, Any]:
    """No ICE servers by default (local use: no STUN lookup that stalls offline).

    For remote use set ``POSTURE_ICE_SERVERS`` to a JSON list, e.g.
    ``[{"urls": ["stun:stun.example.org:3478"]}]``.
    """
    raw = os.environ.get(ICE_ENV, "").strip()
    if not raw:
        return {"iceServers": []}
    try:
        servers = json.loads(raw)
    except json.JSONDecodeError:
        return {"iceServers": []}
    return {"iceServers": servers if isinstance(servers, list) else []}


def frame_to_rgb(frame: av.VideoFrame) -> np.ndarray:
    """RGB pixels of a decoded webrtc frame (yuv420p from aiortc's VP8/H.264 decoders).

    OpenCV: ~0.4 ms at 640x480 against 0.7-2.9 ms through PyAV's swscale on new frame
    objects (benchmarks/live_speed.py); other formats go through PyAV.
    """
    if frame.format.name == "yuv420p" and frame.width % 2 == 0 and frame.height % 2 == 0:
        return cv2.cvtColor(frame.to_ndarray(format="yuv420p"), cv2.COLOR_YUV2RGB_I420)
    return frame.to_ndarray(format="rgb24")


def rgb_to_frame(rgb: np.ndarray) -> av.VideoFrame:
    """The annotated frame for aiortc's encoder, already yuv420p.

    An rgb24 frame would be converted to yuv420p by the encoder for every frame it sends,
    the same processed frame again for each camera frame that arrives while the next one
    is being processed (async processing): 2-4 ms each time through PyAV's swscale at
    640x480, ~0.6 ms once here with OpenCV (benchmarks/live_speed.py).
    """
    import av

    h, w = rgb.shape[:2]
    if h % 2 == 0 and w % 2 == 0:
        return av.VideoFrame.from_ndarray(
            cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420), format="yuv420p"
        )
    return av.VideoFrame.from_ndarray(rgb, format="rgb24")


def _protocol(key: str, camera: str | None = None) -> LiveProtocol:
    state_key = f"{key}_protocol"
    if state_key not in st.session_state:
        timeout = env_number(STEP_TIMEOUT_ENV, 20.0, 600.0)
        st.session_state[state_key] = LiveProtocol(step_timeout_s=timeout, camera=camera)
    proc: LiveProtocol = st.session_state[state_key]
    proc.set_camera(camera)  # another profile chosen: the protocol starts again with it
    _close_on_session_end(state_key, proc)
    return proc


def _close_models(proc: LiveProtocol) -> None:
    proc.close()


@st.cache_resource(scope="session", on_release=_close_models, show_spinner=False)
def _close_on_session_end(state_key: str, _proc: LiveProtocol) -> LiveProtocol:
    """Held (one per ``state_key``) while the browser session is connected: when it
    disconnects, Streamlit drops this session's cache and the protocol's models are
    closed (a reconnect that sends frames again makes new ones)."""
    return _proc


def _status_md(proc: LiveProtocol) -> str:
    """The status as markdown with raw HTML (``<small>``): every text that is not this
    function's own (prompts, hints, a profile's name, an error that may quote a file name)
    is escaped, so none of it can become a tag, a link or formatting."""
    s = proc.status()
    if s.stopped:
        return f":warning: **{escape_markdown(s.stopped)}**"
    lines = [f"**Step {s.step_index + 1} of {s.n_steps}: {escape_markdown(s.prompt)}**"]
    if s.quality_hint and not s.done:
        lines.append(f":warning: {escape_markdown(s.quality_hint)}")
    done = [
        f"{PATIENT_ROM_LABELS[k].lower()} {'at least ' if k in s.at_least else ''}{v:.0f}°"
        for k, v in s.peaks_deg.items()
        if v is not None
    ]
    if done:
        lines.append("Detected so far: " + ", ".join(done))
    if s.at_least:
        lines.append(
            ":information_source: Your head moved further than the camera could follow, so "
            "the value marked *at least* is a lower bound, not your full range."
        )
    if s.calibration_problem:
        problem = escape_markdown(s.calibration_problem)
        lines.append(f":warning: Measuring without camera calibration. {problem}")
    elif s.calibration:
        lines.append(f"Camera calibration applied: {escape_markdown(s.calibration)}")
    lines.append(f"<small>{s.frames} frames · {s.fps:.0f} frames/s processed</small>")
    return "  \n".join(lines)


def live_protocol(
    key: str, on_restart: Callable[[], None] | None = None, camera: str | None = None
) -> LiveProtocol | None:
    """Show the webcam with the guided protocol; returns the protocol once it is done.

    ``on_restart`` runs when the user restarts the protocol (to drop a result taken from it).
    ``camera``: a camera profile name (``posture calibrate``) applied to every frame.
    """
    from streamlit_webrtc import WebRtcMode, webrtc_streamer

    proc = _protocol(key, camera)
    st.markdown(
        "Press **START** and allow the camera. Sit about an arm's length away, facing the "
        "camera, head and shoulders in view, in good light. Follow the prompt on the video: "
        "move slowly and only as far as is comfortable. Stop if anything hurts or you feel "
        "dizzy."
    )

    def callback(frame):  # runs in the video worker thread: no st.* here
        out, _ = proc.process(frame_to_rgb(frame), time.monotonic())
        return rgb_to_frame(out)

    try:
        ctx = webrtc_streamer(
            key=key,
            mode=WebRtcMode.SENDRECV,
            rtc_configuration=rtc_configuration(),
            media_stream_constraints=MEDIA_CONSTRAINTS,
            video_frame_callback=callback,
            async_processing=True,  # the newest frame is processed, older ones dropped: no lag
        )
    except Exception as err:  # noqa: BLE001 - e.g. no Streamlit server (tests): keep the page
        st.warning(
            f"The live webcam is not available here ({type(err).__name__}). "
            "Upload a recording instead."
        )
        return None
    st.caption(
        "No picture? Allow camera access in the browser's address bar, close other apps "
        "using the camera, or use a browser with WebRTC (recent Chrome, Edge, Firefox, "
        "Safari). You can also upload a recording instead."
    )
    if st.button("Restart the protocol", key=f"{key}_restart"):
        proc.reset()
        if on_restart is not None:
            on_restart()
    status_box = st.empty()
    status_box.markdown(_status_md(proc), unsafe_allow_html=True)
    if proc.status().done:
        return proc
    if ctx.state.playing:
        while ctx.state.playing and not proc.status().done and not proc.status().stopped:
            status_box.markdown(_status_md(proc), unsafe_allow_html=True)
            time.sleep(0.3)
        if proc.status().done:
            st.rerun()
    return None


__all__ = ["STEP_NAMES", "live_protocol", "rtc_configuration"]
