"""Charts as inline SVG, drawn on the server (no script): bars or lines with their numbers written beside them,
always next to a table with the same numbers (a chart is never the only way to read them)."""
from markupsafe import Markup, escape

WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 760, 250, 44, 30, 44
COLOURS = ("#00509e", "#b35900", "#2e7d32", "#6a1b9a")  # each at least 4.5:1 on white; lines differ by dash too
DASHES = ("", "6 3", "2 3", "10 3 2 3")


def _frame(label: str, body: list[str], ymax: float, percent: bool) -> Markup:
    plot_h = HEIGHT - BOTTOM - TOP
    ticks = []
    for i in range(5):
        value = ymax * i / 4
        y = TOP + plot_h - plot_h * i / 4
        text = f"{value * 100:.0f} %" if percent else f"{value:g}"
        ticks.append(f'<line x1="{LEFT}" x2="{WIDTH - 4}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d0d0d0"/>'
                     f'<text x="{LEFT - 4}" y="{y + 4:.1f}" text-anchor="end">{text}</text>')
    return Markup(f'<svg class="chart chart-wide" role="img" aria-label="{escape(label)}" viewBox="0 0 {WIDTH} {HEIGHT}" '
                  f'width="100%" preserveAspectRatio="xMinYMin meet" focusable="false">{"".join(ticks)}'
                  f'{"".join(body)}</svg>')


def _x_labels(labels: list[str], step: float, every: int) -> list[str]:
    return [f'<text x="{LEFT + step * (i + 0.5):.1f}" y="{HEIGHT - 10}" text-anchor="middle">{escape(label)}</text>'
            for i, label in enumerate(labels) if i % every == 0 or i == len(labels) - 1]


def bars(label: str, labels: list[str], values: list[int], marks: dict[int, str] | None = None) -> Markup:
    """One bar per label; `marks` {index: text}: a vertical line after that bar (the 3-, 12- and 36-month
    horizons)."""
    ymax = -(-max(max(values, default=0), 1) // 4) * 4  # a multiple of 4: whole numbers on the 5 ticks
    plot_h = HEIGHT - BOTTOM - TOP
    step = (WIDTH - LEFT - 30) / max(len(values), 1)
    body = []
    for i, (name, value) in enumerate(zip(labels, values)):
        h = plot_h * value / ymax
        body.append(f'<rect x="{LEFT + step * i + 1:.1f}" y="{TOP + plot_h - h:.1f}" width="{max(step - 2, 1):.1f}" '
                    f'height="{h:.1f}" fill="{COLOURS[0]}"><title>{escape(name)}: {value}</title></rect>')
    for i, text in (marks or {}).items():
        x = LEFT + step * (i + 1)
        body.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP - 6}" y2="{TOP + plot_h}" stroke="#333" '
                    f'stroke-dasharray="4 3"/><text x="{x - 3:.1f}" y="{TOP - 4}" text-anchor="end">{escape(text)}</text>')
    body += _x_labels(labels, step, 6 if len(labels) > 12 else 1)
    return _frame(label, body, ymax, percent=False)


def lines(label: str, labels: list[str], series: list[tuple[str, list]], percent: bool = False,
          floor: tuple[str, float] | None = None) -> Markup:
    """Lines over the labels, named in a legend above (colour and dash differ); None values leave a gap.
    `floor`: a horizontal reference line (a target's minimum), named at its end."""
    values = [v for _n, vs in series for v in vs if v is not None]
    top = max(max(values, default=0), floor[1] if floor else 0, 1)
    ymax = 1.0 if percent else -(-(int(top) + 1) // 4) * 4  # a multiple of 4 above the top: whole-number ticks
    plot_h = HEIGHT - BOTTOM - TOP
    step = (WIDTH - LEFT - 90) / max(len(labels), 1)
    body = []
    if floor:
        y = TOP + plot_h - plot_h * floor[1] / ymax
        body.append(f'<line x1="{LEFT}" x2="{LEFT + step * len(labels):.1f}" y1="{y:.1f}" y2="{y:.1f}" '
                    f'stroke="#b00020" stroke-width="2" stroke-dasharray="8 4"/>'
                    f'<text x="{LEFT + step * len(labels) + 4:.1f}" y="{y + 4:.1f}">{escape(floor[0])}</text>')
    for k, (name, vs) in enumerate(series):
        points = [(LEFT + step * (i + 0.5), TOP + plot_h - plot_h * v / ymax) for i, v in enumerate(vs)
                  if v is not None]
        if not points:
            continue
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        colour, dash = COLOURS[k % len(COLOURS)], DASHES[k % len(DASHES)]
        body.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2.5" '
                    f'stroke-dasharray="{dash}"/>')
        body += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>' for x, y in points]
        # The legend above the plot: a piece of the line (colour and dash) and its name.
        lx, ly = LEFT + 340 * (k % 2), 8 + 15 * (k // 2)
        body.append(f'<line x1="{lx}" x2="{lx + 24}" y1="{ly}" y2="{ly}" stroke="{colour}" stroke-width="2.5" '
                    f'stroke-dasharray="{dash}"/><text x="{lx + 30}" y="{ly + 4}">{escape(name)}</text>')
    body += _x_labels(labels, step, 6 if len(labels) > 12 else 1)
    return _frame(label, body, ymax, percent)
