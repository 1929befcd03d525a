"""The page's SVG charts (api/page/charts.py): what each draws for its data, parsed back as XML, so a
chart's bars, series, axis, legend and text alternatives are checked as a browser would get them."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from api.page.charts import Bar, Column, Dot, Series, bars, dot_map, nice_ticks, stacked_columns
from kunlun_nlp.places import settled_cells

SVG = "{http://www.w3.org/2000/svg}"
SERIES = [Series("FOOD", "Food"), Series("MEDICINE", "Medicine")]


def parse(markup) -> ET.Element:
    return ET.fromstring(str(markup))


def find(root: ET.Element, tag: str, css: str | None = None) -> list[ET.Element]:
    found = root.iter(SVG + tag)
    return [e for e in found if css is None or css in (e.get("class") or "").split()]


def test_nice_ticks_cover_the_maximum_in_round_steps():
    assert nice_ticks(0) == [0, 1]
    assert nice_ticks(1) == [0, 1]
    assert nice_ticks(2) == [0, 1, 2]
    assert nice_ticks(7) == [0, 2, 4, 6, 8]
    assert nice_ticks(37) == [0, 10, 20, 30, 40]
    assert nice_ticks(1234)[-1] >= 1234 and len(nice_ticks(1234)) <= 6


def test_stacked_columns_draw_one_rect_per_nonzero_series_value_with_legend_axis_and_text_alternative():
    columns = [Column("Jan 2024", "January 2024", {"FOOD": 3, "MEDICINE": 1}, total=4),
               Column("Feb 2024", "February 2024", {}, total=0),
               Column("Mar 2024", "March 2024", {"MEDICINE": 2}, total=2)]
    root = parse(stacked_columns(columns, SERIES, chart_id="t", title="Reports per domain", description="Three months."))
    assert root.get("role") == "img" and root.get("aria-labelledby") == "t-title t-desc"
    assert root.find(SVG + "title").text == "Reports per domain" and root.find(SVG + "desc").text == "Three months."
    drawn = [(r.get("data-series"), int(r.get("data-value"))) for r in root.iter(SVG + "rect") if r.get("data-series")]
    assert drawn == [("FOOD", 3), ("MEDICINE", 1), ("MEDICINE", 2)]
    groups = find(root, "g", "column")
    assert [g.get("data-label") for g in groups] == ["Jan 2024", "Feb 2024", "Mar 2024"]  # the empty month is a column too
    assert groups[0].find(SVG + "title").text == "January 2024: 4 reports (Food 3, Medicine 1)"
    assert groups[1].find(SVG + "title").text == "February 2024: 0 reports"
    legend = find(root, "g", "legend")[0]
    assert [t.text for t in legend.iter(SVG + "text")] == ["Food", "Medicine"]
    y_labels = [t.text for t in find(root, "g", "y")[0].iter(SVG + "text")]
    assert y_labels == ["0", "1", "2", "3", "4"]  # the stack of January reaches 4
    # stacked: January's medicine sits on its food
    food, medicine = [r for r in root.iter(SVG + "rect") if r.get("data-series")][:2]
    assert abs(float(medicine.get("y")) + float(medicine.get("height")) - float(food.get("y"))) < 0.2


def test_stacked_columns_thin_the_axis_labels_so_they_do_not_overlap():
    columns = [Column(f"W{i:03d} 2024", f"week {i}", {"FOOD": 1}) for i in range(200)]
    root = parse(stacked_columns(columns, SERIES, chart_id="w", title="t", description="d", width=900))
    labels = [t for t in find(root, "g", "x")[0].iter(SVG + "text")]
    xs = [float(t.get("x")) for t in labels]
    assert 2 <= len(labels) < 20
    assert min(b - a for a, b in zip(xs, xs[1:])) > len("W000 2024") * 6  # room for each label
    assert len(find(root, "g", "column")) == 200


def test_chart_text_is_escaped():
    hostile = '<script>alert("x")</script>'
    markup = str(stacked_columns([Column(hostile, hostile, {"FOOD": 1})], [Series("FOOD", hostile)], chart_id="e",
                                 title=hostile, description=hostile))
    markup += str(bars([Bar(hostile, 2, '/ui/search?entity=ORG:"x"&q=<b>')], chart_id="b", title=hostile, description=hostile,
                       series="ORG"))
    markup += str(dot_map([Dot(hostile, 10, 10, 1, "/x?a=1&b=<2>", hostile)], chart_id="m", title=hostile, description=hostile))
    assert "<script>" not in markup and "<b>" not in markup
    for chart in (markup.split("</svg>")[:3]):
        parse(chart + "</svg>")  # well-formed XML: every attribute and text escaped


def test_bars_draw_one_bar_per_item_longest_first_with_links_and_shortened_names():
    items = [Bar("Shenzhen Huaxin Trading Company Limited of Guangdong", 8, "/ui/search?entity=ORG%3AShenzhen"),
             Bar("NAFDAC", 4, "/ui/search?entity=ORG%3ANAFDAC"), Bar("Unlinked", 1)]
    root = parse(bars(items, chart_id="firms", title="Top firms", description="Three firms.", series="ORG"))
    drawn = find(root, "g", "bar")
    assert [(g.get("data-label"), int(g.get("data-value"))) for g in drawn] == [(b.label, b.value) for b in items]
    widths = [float(r.get("width")) for r in find(root, "rect", "series-ORG")]
    assert widths[0] > widths[1] > widths[2] and abs(widths[0] / widths[1] - 2) < 0.01
    links = [a.get("href") for a in root.iter(SVG + "a")]
    assert links == ["/ui/search?entity=ORG%3AShenzhen", "/ui/search?entity=ORG%3ANAFDAC"]
    names = [t.text for g in drawn for t in g.iter(SVG + "text") if t.get("class") != "value"]
    assert names[0].endswith("…") and len(names[0]) <= 26 and names[1] == "NAFDAC"
    assert drawn[0].find(SVG + "title").text == "Shenzhen Huaxin Trading Company Limited of Guangdong: 8 reports"


def test_dot_map_places_dots_by_longitude_and_latitude_sized_by_count():
    dots = [Dot("Chengdu", 30.66, 104.06, 4, "/a", "Sichuan, China"), Dot("Guangzhou", 23.13, 113.26, 1, "/b"),
            Dot("Hohhot", 40.81, 111.65, 2)]
    root = parse(dot_map(dots, chart_id="map", title="Places", description="Three places."))
    circles = {g.get("data-name"): g.find(SVG + "circle") for g in find(root, "g", "dot")}
    assert set(circles) == {"Chengdu", "Guangzhou", "Hohhot"}
    x = {name: float(c.get("cx")) for name, c in circles.items()}
    y = {name: float(c.get("cy")) for name, c in circles.items()}
    r = {name: float(c.get("r")) for name, c in circles.items()}
    assert x["Chengdu"] < x["Hohhot"] < x["Guangzhou"]  # west to east
    assert y["Hohhot"] < y["Chengdu"] < y["Guangzhou"]  # north to south: y grows down
    assert r["Chengdu"] > r["Hohhot"] > r["Guangzhou"]
    assert next(g for g in find(root, "g", "dot") if g.get("data-name") == "Chengdu").find(SVG + "title").text == \
        "Chengdu (Sichuan, China): 4 reports"
    width, height = (float(v) for v in root.get("viewBox").split()[2:])
    assert width == 2 * height  # equirectangular: as many pixels per degree each way (a 2:1 frame)
    assert all(0 <= x[n] <= width and 0 <= y[n] <= height for n in x)
    graticule = find(root, "g", "graticule")[0]
    assert len(list(graticule.iter(SVG + "line"))) >= 4
    assert any(t.text.endswith("°E") for t in graticule.iter(SVG + "text"))
    assert any(t.text.endswith("°N") for t in graticule.iter(SVG + "text"))


def test_dot_map_frames_the_world_when_places_are_far_apart_and_labels_never_overlap():
    dots = [Dot(f"Place {i}", lat, lon, 10 - i) for i, (lat, lon) in
            enumerate([(51.5, -0.1), (52.4, 4.9), (48.9, 2.4), (50.8, 4.4), (40.7, -74.0), (-33.9, 151.2), (35.7, 139.7)])]
    root = parse(dot_map(dots, chart_id="w", title="t", description="d", width=900))
    assert root.get("viewBox") == "0 0 900 450"
    labels = [t for t in find(root, "g", "dot-labels")[0].iter(SVG + "text")]
    assert {"Place 0", "Place 4", "Place 5", "Place 6"} <= {t.text for t in labels}  # the ones with room are named
    boxes = []
    for t in labels:
        x, w = float(t.get("x")), len(t.text) * 6.2
        x0 = x - w if t.get("text-anchor") == "end" else x
        boxes.append((x0, float(t.get("y")) - 12, x0 + w, float(t.get("y")) + 1))
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), (a, b)


def test_dot_map_shades_the_settled_land_under_the_dots():
    dots = [Dot("Chengdu", 30.66, 104.06, 1), Dot("Lagos", 6.45, 3.39, 1)]
    root = parse(dot_map(dots, chart_id="l", title="t", description="d", land=settled_cells))
    land = find(root, "path", "land")
    assert len(land) == 1
    rectangles = land[0].get("d").count("M")
    assert 100 < rectangles < 3000  # runs of cells merged per row, not one rectangle a cell
    # drawn under the dots: the land comes before them in the picture
    children = [c.get("class") for c in root]
    assert children.index("land") < children.index("dots")


def test_settled_cells_hold_the_cities_and_not_the_open_ocean():
    cells = settled_cells(2.0)
    assert (int((30.66 + 90) // 2), int((104.06 + 180) // 2)) in cells  # Chengdu
    assert (int((0 + 90) // 2), int((-140 + 180) // 2)) not in cells  # the middle of the Pacific
