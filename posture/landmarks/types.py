"""The project's own landmark arrays, and the ``Landmarker`` protocol: what every model
backend must produce and offer (``posture.landmarks.mediapipe_adapter`` is the one used)."""

from __future__ import annotations

from collections.abc import Generator, Iterable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from posture.arrays import Array

# MediaPipe Pose (BlazePose, 33 points) indices used by the geometry.
NOSE = 0
LEFT_EYE = 2
RIGHT_EYE = 5
LEFT_EAR = 7
RIGHT_EAR = 8
MOUTH_LEFT = 9
MOUTH_RIGHT = 10
LEFT_SHOULDER = 11
RIGHT_SHOULDER = 12
LEFT_ELBOW = 13
RIGHT_ELBOW = 14
LEFT_HIP = 23
RIGHT_HIP = 24
N_POSE = 33
N_FACE = 478

# Skeleton drawn on annotated output (pairs of pose indices, upper body first).
POSE_EDGES: tuple[tuple[int, int], ...] = (
    (11, 12), (11, 13), (13, 15), (12, 14), (14, 16), (11, 23), (12, 24), (23, 24),
    (23, 25), (25, 27), (24, 26), (26, 28), (7, 2), (2, 0), (0, 5), (5, 8), (9, 10),
)  # fmt: skip


@dataclass(frozen=True)
class PoseLandmarks:
    """Body landmarks of one subject in one frame.

    Attributes:
        image_xy: (33, 2) pixel positions in the full upright frame.
        visibility: (33,) model confidence that the point is visible, 0..1.
        world_xyz: (33, 3) metres, origin between the hips, axes parallel to the
            camera's (x right, y down, z away from the camera).
    """

    image_xy: Array
    visibility: Array
    world_xyz: Array

    def visible(self, index: int, min_visibility: float = 0.5) -> bool:
        return bool(self.visibility[index] >= min_visibility)


@dataclass(frozen=True)
class FaceLandmarks:
    """Face mesh of the subject: (478, 3) pixels; z is depth in the same pixel scale as x."""

    xyz: Array


@dataclass(frozen=True)
class HeadRotation:
    """The head's orientation from a head-pose network on a crop of the head.

    Attributes:
        rotation: (3, 3) head frame (columns = the head's left, back, up) in the axes of
            a camera looking straight at the crop: weak perspective, the crop's viewing
            ray not yet accounted for (see ``posture.geometry.head.ray_corrected``).
        centre_px: (2,) the crop's centre in the frame's pixels.
        source: what the crop was placed on: "face" (face mesh) or "pose" (pose model's
            head points, when the face mesh lost the face).
        confidence: 0..1, how well the crop frames a face and how well the answer
            agrees with the mirrored crop's (low: a poor crop, or not a face).
    """

    rotation: Array
    centre_px: Array
    source: str
    confidence: float = 1.0


@dataclass(frozen=True)
class FrameLandmarks:
    """Everything the models found in one frame."""

    t_s: float
    width: int
    height: int
    pose: PoseLandmarks | None
    face: FaceLandmarks | None
    people_in_view: int | None = None  # counted on some frames only; None = not counted
    head: HeadRotation | None = None  # from the head-pose network, when it ran


class HasPixels(Protocol):
    """A frame as a landmarker takes it: an upright RGB picture and its time (s)."""

    @property
    def rgb(self) -> Array: ...

    @property
    def t_s(self) -> float: ...


FrameT = TypeVar("FrameT", bound=HasPixels)


class Landmarker(Protocol):
    """Landmarks of one followed subject, frame by frame (one instance per stream).

    ``max_people_seen``: the most people counted in view so far (callers reset it to 0
    for a stream and read it after).
    """

    max_people_seen: int

    def process(self, rgb: Array, t_s: float) -> FrameLandmarks:
        """The followed subject's landmarks in one frame."""
        ...

    def process_stream(
        self, frames: Iterable[FrameT], overlap: bool = True
    ) -> Generator[tuple[FrameT, FrameLandmarks], None, None]:
        """Each frame with its landmarks, in order; ``overlap=False`` takes frames one at
        a time. Closing the generator stops any thread behind it."""
        ...

    def set_camera_roll(self, roll_deg: float) -> None:
        """Level frames by the camera's roll before the models see them (0: off)."""
        ...

    def follow_near(self, centre_px: tuple[float, float], size_px: float | None = None) -> None:
        """From the next frame on, follow the person nearest ``centre_px``."""
        ...

    def close(self) -> None: ...
