"""Array types for annotations (numpy ships its own; no runtime effect).

``Array`` is any numpy array (shape and dtype not checked): the one spelling the library
uses for ``np.ndarray`` in annotations, so mypy's strict mode sees no bare generic.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import numpy.typing as npt

Array: TypeAlias = npt.NDArray[Any]
