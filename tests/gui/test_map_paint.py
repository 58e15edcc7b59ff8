"""Legends and colour bars are laid out once and painted as images until they change."""

from __future__ import annotations

import io
import pickle

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.legend import Legend

from gui.map_canvas import DrawCache


@pytest.fixture
def laid_out(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Grows by one at every time a legend is really drawn (laid out and rasterised)."""
    calls: list[int] = []
    draw = Legend.draw
    monkeypatch.setattr(
        Legend, "draw", lambda self, renderer: (calls.append(1), draw(self, renderer))[1]
    )
    return calls


def _figure(cached: bool) -> tuple[Figure, list[DrawCache]]:
    """A small map-like figure: an image, a legend over it and a colour bar beside it.

    Returns the figure and its caches (none when not ``cached``).
    """
    fig = Figure(figsize=(4, 3), dpi=80)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.0, 0.0, 0.86, 1.0))
    cax = fig.add_axes((0.885, 0.55, 0.022, 0.38))
    image = ax.imshow(np.random.default_rng(0).random((12, 12)), extent=(0, 1, 0, 1))
    ax.plot([0, 1], [0, 1], lw=3, label="1–500 veh/h")
    ax.plot([0, 1], [1, 0], lw=1, label="more")
    legend = ax.legend(loc="upper left", title="flow change", framealpha=0.9)
    fig.colorbar(image, cax=cax).set_label("population")
    return fig, [DrawCache(legend), DrawCache(cax)] if cached else []


def _pixels(fig: Figure) -> np.ndarray:
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba()).astype(int)


def test_a_pan_paints_the_legend_and_bar_without_laying_them_out_again(laid_out: list[int]) -> None:
    fig, (legend, bar) = _figure(cached=True)
    _pixels(fig)
    fig.axes[0].set_xlim(0.2, 1.2)  # a pan
    _pixels(fig)
    _pixels(fig)
    assert len(laid_out) == 1 and legend.renders == 1 and bar.renders == 1


def test_the_painted_image_is_the_drawn_picture() -> None:
    fig, _ = _figure(cached=False)
    direct = [_pixels(fig)]
    fig.axes[0].set_xlim(0.2, 1.2)
    direct.append(_pixels(fig))
    fig, _ = _figure(cached=True)
    cached = [_pixels(fig)]
    fig.axes[0].set_xlim(0.2, 1.2)
    cached.append(_pixels(fig))
    for a, b in zip(direct, cached, strict=True):
        # blending the legend's 90 % frame onto a clear buffer first rounds by a unit or two
        assert np.abs(a - b).max() <= 2
    assert np.abs(direct[0] - direct[1]).max() > 50  # the pan moved the map beneath


def test_a_change_draws_them_again(laid_out: list[int]) -> None:
    fig, (legend, bar) = _figure(cached=True)
    _pixels(fig)
    legend.artist.get_texts()[1].set_text("less")
    fig.axes[0].images[0].set_clim(0.0, 2.0)  # the colour bar's scale
    before = _pixels(fig)
    assert len(laid_out) == 2 and legend.renders == 2 and bar.renders == 2
    fig.set_size_inches(5, 3)  # another canvas size
    _pixels(fig)
    assert legend.renders == 3 and bar.renders == 3
    assert before.shape != _pixels(fig).shape


def test_vector_output_keeps_the_text(laid_out: list[int]) -> None:
    fig, (legend, bar) = _figure(cached=True)
    _pixels(fig)
    out = io.StringIO()
    fig.savefig(out, format="svg")
    assert len(laid_out) == 2  # drawn as itself, not as the screen's image
    assert legend.renders == 1 and bar.renders == 1


def test_a_hidden_legend_is_not_drawn(laid_out: list[int]) -> None:
    fig, (legend, _) = _figure(cached=True)
    legend.artist.set_visible(False)
    _pixels(fig)
    assert not laid_out and legend.renders == 0


def test_the_pickled_figure_draws_without_the_screen_picture(laid_out: list[int]) -> None:
    fig, (legend, _) = _figure(cached=True)
    _pixels(fig)
    copy = pickle.loads(pickle.dumps(fig))  # as the print layout takes the map
    cache = copy.axes[0].get_legend().draw.__self__
    assert cache.image is None and cache.artist is copy.axes[0].get_legend()
    FigureCanvasAgg(copy)
    assert np.abs(_pixels(copy) - _pixels(fig)).max() <= 2
    assert legend.renders == 1 and cache.renders == 1
