"""Drawing architectures: cell graphs with op labels, for every nasgym space.

Each env turns an architecture string (the ``info["arch"]`` form) into one or more
:class:`CellView` (NB301: the normal and the reduce cell) with
``env.unwrapped.cell_views(arch)``; :func:`draw_cells` lays any such node-labelled DAG
out in layers (a vertex one column right of its deepest predecessor) and draws it
with matplotlib's Agg canvas. The envs' ``render_mode="rgb_array"`` frames show the
current and the incumbent architecture side by side (:func:`env_frame`);
``nasgym draw`` writes one architecture as a PNG (:func:`save_png`).

matplotlib is the ``render`` extra: it is imported only when something is drawn, and
a missing one raises :class:`nasgym.error.MissingExtraError` naming the extra.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from nasgym.error import InvalidArchitectureError, require, unknown_option

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: Matplotlib backends that cannot show a window (``render_mode="human"`` then only
#: draws, as Gymnasium's pygame envs do with a dummy video driver).
NON_INTERACTIVE_BACKENDS = frozenset(
    {"agg", "cairo", "pdf", "pgf", "ps", "svg", "template"}
)
#: Inches of one cell panel (width, height) and the dots per inch of a frame.
PANEL_SIZE = (4.8, 3.0)
DPI = 80


@dataclass(frozen=True)
class CellView:
    """A cell as a node-labelled DAG: what :func:`draw_cells` draws.

    Attributes:
        title: Panel title (``"normal cell"``, ``""`` for a one-cell space).
        labels: Label (op, ``input``, ``output``, ...) of each vertex.
        edges: ``(u, v)`` vertex pairs, an edge ``u -> v``.
    """

    title: str
    labels: tuple[str, ...]
    edges: tuple[tuple[int, int], ...]

    @classmethod
    def from_arrays(
        cls,
        adjacency: ArrayLike,
        labels: Sequence[str | None],
        title: str = "",
    ) -> CellView:
        """Build a view from an adjacency matrix; vertices labelled ``None`` drop out.

        Args:
            adjacency: ``(n, n)`` 0/1 matrix, ``adjacency[u, v]`` for ``u -> v``.
            labels: Label of each of the ``n`` vertices (``None``: padding).
            title: Panel title.
        """
        adj = np.asarray(adjacency)
        keep = [i for i, label in enumerate(labels) if label is not None]
        index = {v: i for i, v in enumerate(keep)}
        edges = tuple(
            (index[int(u)], index[int(v)])
            for u, v in zip(*np.nonzero(adj), strict=True)
            if int(u) in index and int(v) in index
        )
        return cls(title, tuple(str(labels[v]) for v in keep), edges)

    def layers(self) -> list[int]:
        """Column of every vertex: 0 for sources, else 1 + its deepest predecessor.

        Raises:
            InvalidArchitectureError: The graph has a cycle.
        """
        n = len(self.labels)
        preds: list[list[int]] = [[] for _ in range(n)]
        for u, v in self.edges:
            preds[v].append(u)
        depth: list[int | None] = [None] * n

        def visit(v: int, stack: frozenset[int]) -> int:
            if v in stack:
                raise InvalidArchitectureError(f"cell graph {self.title!r} has a cycle")
            known = depth[v]
            if known is None:
                known = 1 + max((visit(u, stack | {v}) for u in preds[v]), default=-1)
                depth[v] = known
            return known

        return [visit(v, frozenset()) for v in range(n)]


def categorical_views(space: Any, arch: str) -> list[CellView]:
    """Views of ``arch`` in a categorical space (NB201, NAS-Bench-Graph) graph view.

    Uses the space's ``graph_tables`` (vertex ``op`` labels from ``node_types``).

    Raises:
        InvalidArchitectureError: ``arch`` is not a string of the space.
    """
    code = space.code(space.from_string(arch))
    adjacency, node_ops = space.graph_tables
    labels = [space.node_types[int(op)] if op >= 0 else None for op in node_ops[code]]
    return [CellView.from_arrays(adjacency[code], labels)]


def darts_views(arch: str) -> list[CellView]:
    """The normal and the reduce cell of a DARTS genotype key (NB301's arch string).

    Uses the ops-on-vertices view of :func:`nasgym.spaces.darts.to_node_graph`.

    Raises:
        InvalidArchitectureError: ``arch`` is not a DARTS genotype key.
    """
    from nasgym.spaces.darts import CELLS, LABEL_NAMES, DartsGenotype, to_node_graph

    try:
        genotype = DartsGenotype.from_key(arch)
    except InvalidArchitectureError as exc:
        raise InvalidArchitectureError(
            f"{exc}; a key is 8 (input, op) digit pairs per cell, normal|reduce, as "
            "in info['arch'] of an NB301 env, e.g. '4051103101220204|5011614230436053'"
        ) from None
    adjacency, labels, flags = to_node_graph(genotype)
    views = []
    for flag, name in enumerate(CELLS):
        keep = np.flatnonzero(flags == flag)
        views.append(
            CellView.from_arrays(
                adjacency[np.ix_(keep, keep)],
                [LABEL_NAMES[int(k)] for k in labels[keep]],
                f"{name} cell",
            )
        )
    return views


#: Spaces :func:`space_views` draws without making an env (no benchmark data).
SPACES: tuple[str, ...] = ("nb201", "nbgraph", "nbgraph-proteins", "nb301")


def space_views(space: str, arch: str) -> list[CellView]:
    """The cells of ``arch`` in a named space (see :data:`SPACES`).

    NB101 is not among them: its arch string is a hash, resolved by an NB101 env's
    table (``nasgym draw HASH --env nasgym/NB101Query-v0``).

    Raises:
        UnknownOptionError: ``space`` is not in :data:`SPACES`.
        InvalidArchitectureError: ``arch`` is not an architecture of the space.
    """
    if space == "nb201":
        from nasgym.spaces.nb201 import NB201Space

        return categorical_views(NB201Space(), arch)
    if space in ("nbgraph", "nbgraph-proteins"):
        from nasgym.spaces.nbgraph import NBGraphSpace

        return categorical_views(NBGraphSpace(proteins=space != "nbgraph"), arch)
    if space == "nb301":
        return darts_views(arch)
    raise unknown_option("space", space, SPACES)


def _matplotlib() -> None:
    require("matplotlib", extra="render", purpose="drawing architectures")


def _draw_view(ax: Axes, view: CellView) -> None:
    layers = view.layers()
    columns: dict[int, list[int]] = {}
    for v, layer in enumerate(layers):
        columns.setdefault(layer, []).append(v)
    pos: dict[int, tuple[float, float]] = {}
    for layer, members in columns.items():
        for row, v in enumerate(members):
            pos[v] = (float(layer), (len(members) - 1) / 2.0 - row)
    for u, v in view.edges:
        span = abs(layers[v] - layers[u])
        ax.annotate(
            "",
            xy=pos[v],
            xytext=pos[u],
            arrowprops={
                "arrowstyle": "-|>",
                "color": "0.45",
                "lw": 0.9,
                "shrinkA": 14,
                "shrinkB": 14,
                "connectionstyle": f"arc3,rad={0.25 if span > 1 else 0.0}",
            },
        )
    for v, label in enumerate(view.labels):
        x, y = pos[v]
        ax.text(
            x,
            y,
            label,
            ha="center",
            va="center",
            fontsize=7,
            bbox={"boxstyle": "round,pad=0.3", "fc": _colour(label), "ec": "0.3"},
        )
    width = max(layers, default=0)
    height = max((len(m) for m in columns.values()), default=1)
    ax.set_xlim(-0.6, width + 0.6)
    ax.set_ylim(-height / 2.0 - 0.2, height / 2.0 + 0.2)
    ax.set_axis_off()


def _colour(label: str) -> str:
    """A fixed light colour per label (so the same op looks the same everywhere)."""
    if label.lower() in {"input", "output", "in0", "in1", "out", "sum"}:
        return "0.9"
    palette = ("#cfe2f3", "#d9ead3", "#fce5cd", "#ead1dc", "#fff2cc", "#d0e0e3")
    return palette[sum(map(ord, label)) % len(palette)]


def draw_cells(
    panels: Sequence[tuple[str, Sequence[CellView] | None]],
    title: str = "",
    rows: int | None = None,
) -> Figure:
    """A figure with one column per panel and one row per cell.

    Args:
        panels: ``(heading, views)`` per column; ``views`` ``None`` draws an empty
            panel saying there is no architecture yet.
        title: Figure title.
        rows: Rows of panels (default: the most views of a panel), fixed by the
            envs so that every frame has the same size.

    Returns:
        A matplotlib ``Figure`` on an Agg canvas (no window, no pyplot state).

    Raises:
        MissingExtraError: matplotlib is not installed (the ``render`` extra).
    """
    _matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if rows is None:
        rows = max((len(views) for _, views in panels if views), default=1)
    cols = max(len(panels), 1)
    fig = Figure(figsize=(PANEL_SIZE[0] * cols, PANEL_SIZE[1] * rows), dpi=DPI)
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, cols, squeeze=False)
    for c, (heading, views) in enumerate(panels):
        for r in range(rows):
            ax = axes[r][c]
            if not views or r >= len(views):
                ax.set_axis_off()
                if r == 0:
                    ax.text(0.5, 0.5, "no architecture yet", ha="center", va="center")
                    ax.set_title(heading, fontsize=9)
                continue
            _draw_view(ax, views[r])
            name = ": ".join(part for part in (heading, views[r].title) if part)
            ax.set_title(name, fontsize=9)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


def figure_rgb(fig: Figure) -> NDArray[np.uint8]:
    """The figure's pixels, ``(height, width, 3)`` uint8 (Gymnasium's rgb_array)."""
    canvas: Any = fig.canvas
    canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba())
    frame: NDArray[np.uint8] = np.ascontiguousarray(rgba[..., :3], dtype=np.uint8)
    return frame


def _fmt(value: Any) -> str:
    return "-" if value is None or np.isnan(value) else f"{value:.2f}"


def env_figure(env: Any, info: dict[str, Any], step: int) -> Figure:
    """The current and the incumbent architecture of a search, with its numbers."""
    current, best = info.get("arch"), info.get("best_arch")
    title = (
        f"step {step}   queries {info.get('queries')}   valid "
        f"{_fmt(info.get('valid_accuracy'))}   best valid "
        f"{_fmt(info.get('best_valid_accuracy'))}   regret {_fmt(info.get('regret'))}"
    )
    return draw_cells(
        [
            ("current", env.cell_views(current) if current else None),
            ("incumbent", env.cell_views(best) if best else None),
        ],
        title,
        rows=env.cells_per_arch,
    )


def env_frame(env: Any, info: dict[str, Any], step: int) -> NDArray[np.uint8]:
    """:func:`env_figure` as an ``rgb_array`` frame (same shape for every step)."""
    return figure_rgb(env_figure(env, info, step))


class HumanWindow:
    """The pyplot window of ``render_mode="human"``, redrawn in place each frame.

    With a non-interactive matplotlib backend (no display, e.g. ``MPLBACKEND=Agg``)
    the frame is drawn but not shown, as Gymnasium's pygame envs do with a dummy
    video driver; ``shown`` tells which.
    """

    def __init__(self, fps: float) -> None:
        _matplotlib()
        import matplotlib.pyplot as plt

        self.fps = fps
        self.shown = plt.get_backend().lower() not in NON_INTERACTIVE_BACKENDS
        self._plt = plt
        self._fig: Any = None

    def show(self, frame: NDArray[np.uint8]) -> None:
        """Draw ``frame`` in the window (and let the GUI process its events)."""
        plt = self._plt
        if self._fig is None:
            self._fig = plt.figure(figsize=(frame.shape[1] / DPI, frame.shape[0] / DPI))
            self._ax = self._fig.add_axes((0.0, 0.0, 1.0, 1.0))
            self._ax.set_axis_off()
            self._image = self._ax.imshow(frame)
        else:
            self._image.set_data(frame)
        if self.shown:
            plt.pause(1.0 / self.fps)
        else:
            self._fig.canvas.draw()

    def close(self) -> None:
        """Close the window (idempotent)."""
        if self._fig is not None:
            self._plt.close(self._fig)
            self._fig = None


class ArchRenderer:
    """What an env's ``render()`` does in the ``rgb_array`` and ``human`` modes."""

    def __init__(self, render_mode: str, fps: float) -> None:
        """Check that matplotlib is there (at env construction, not first frame).

        Raises:
            MissingExtraError: matplotlib is not installed (the ``render`` extra).
        """
        _matplotlib()
        self.render_mode = render_mode
        self.window = HumanWindow(fps) if render_mode == "human" else None

    def render(
        self, env: Any, info: dict[str, Any], step: int
    ) -> NDArray[np.uint8] | None:
        """The frame (``rgb_array``), or ``None`` after showing it (``human``)."""
        frame = env_frame(env, info, step)
        if self.window is None:
            return frame
        self.window.show(frame)
        return None

    def close(self) -> None:
        """Close the human window, if any."""
        if self.window is not None:
            self.window.close()


#: The modes :class:`ArchRenderer` draws (``ansi`` stays the envs' text summary).
IMAGE_MODES: tuple[str, ...] = ("rgb_array", "human")


def make_renderer(render_mode: str | None, fps: float) -> ArchRenderer | None:
    """An :class:`ArchRenderer` for the image modes, else ``None``."""
    if render_mode is None or render_mode not in IMAGE_MODES:
        return None
    return ArchRenderer(render_mode, fps)


def save_png(views: Sequence[CellView], path: str | Path, title: str = "") -> Path:
    """Write the cells of one architecture as a PNG.

    Raises:
        MissingExtraError: matplotlib is not installed (the ``render`` extra).
    """
    fig = draw_cells([("", views)], title)
    target = Path(path).expanduser()
    target.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(target, format="png")
    return target
