//! Log-log line plots as SVG, drawn by hand (no chart crate in the build): growth with the
//! number of targets is seen, not read.

/// One line of a plot: a name, a colour and (targets, value) points.
pub struct Series {
    pub name: &'static str,
    pub colour: &'static str,
    pub points: Vec<(f64, f64)>,
}

/// Wall time and peak memory against the number of targets, side by side, each with an
/// optional goal line.
pub fn two_panels(
    time: &[Series],
    time_goal: Option<(f64, &str)>,
    memory: &[Series],
    memory_goal: Option<(f64, &str)>,
) -> String {
    let rows = time.len().max(memory.len()) as f64;
    let height = 340.0 + 16.0 * rows;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"900\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"900\" height=\"{height}\" fill=\"white\"/>\n"
    );
    panel(&mut svg, 0.0, "wall time (s)", time, time_goal);
    panel(&mut svg, 450.0, "peak RSS (MB)", memory, memory_goal);
    svg.push_str("</svg>\n");
    svg
}

/// One log-log panel at horizontal offset `x0`, with an optional goal line.
pub fn panel(svg: &mut String, x0: f64, title: &str, series: &[Series], goal: Option<(f64, &str)>) {
    let (left, top, width, height) = (x0 + 60.0, 40.0, 360.0, 250.0);
    let all: Vec<(f64, f64)> = series.iter().flat_map(|s| s.points.iter().copied()).collect();
    let decades = |values: &mut dyn Iterator<Item = f64>| {
        let (lo, hi) = values.fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
        if lo > hi {
            (0.0, 1.0)
        } else {
            (lo.log10().floor(), hi.log10().ceil().max(lo.log10().floor() + 1.0))
        }
    };
    let (x_lo, x_hi) = decades(&mut all.iter().map(|p| p.0));
    let (y_lo, y_hi) = decades(&mut all.iter().map(|p| p.1).chain(goal.map(|g| g.0)));
    let x = |v: f64| left + (v.log10() - x_lo) / (x_hi - x_lo) * width;
    let y = |v: f64| top + height - (v.log10() - y_lo) / (y_hi - y_lo) * height;
    svg.push_str(&format!(
        "<text x=\"{}\" y=\"24\" font-size=\"14\" text-anchor=\"middle\">{title} against targets (log-log)</text>\n",
        left + width / 2.0
    ));
    svg.push_str(&format!(
        "<rect x=\"{left}\" y=\"{top}\" width=\"{width}\" height=\"{height}\" fill=\"none\" stroke=\"#444\"/>\n"
    ));
    for d in (x_lo as i32)..=(x_hi as i32) {
        let v = 10f64.powi(d);
        let px = x(v);
        svg.push_str(&format!(
            "<line x1=\"{px:.1}\" y1=\"{top}\" x2=\"{px:.1}\" y2=\"{}\" stroke=\"#ddd\"/>\n<text x=\"{px:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
            top + height,
            top + height + 16.0,
            axis_label(v)
        ));
    }
    for d in (y_lo as i32)..=(y_hi as i32) {
        let v = 10f64.powi(d);
        let py = y(v);
        svg.push_str(&format!(
            "<line x1=\"{left}\" y1=\"{py:.1}\" x2=\"{}\" y2=\"{py:.1}\" stroke=\"#ddd\"/>\n<text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>\n",
            left + width,
            left - 6.0,
            py + 4.0,
            axis_label(v)
        ));
    }
    if let Some((value, label)) = goal {
        let py = y(value);
        svg.push_str(&format!(
            "<line x1=\"{left}\" y1=\"{py:.1}\" x2=\"{}\" y2=\"{py:.1}\" stroke=\"#2ca02c\" stroke-dasharray=\"6 4\"/>\n<text x=\"{}\" y=\"{:.1}\" fill=\"#2ca02c\" text-anchor=\"end\">{label}</text>\n",
            left + width,
            left + width - 4.0,
            py - 4.0
        ));
    }
    for s in series {
        let path: Vec<String> = s
            .points
            .iter()
            .map(|&(a, b)| format!("{:.1},{:.1}", x(a), y(b)))
            .collect();
        svg.push_str(&format!(
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"/>\n",
            path.join(" "),
            s.colour
        ));
        for &(a, b) in &s.points {
            svg.push_str(&format!(
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3.5\" fill=\"{}\"><title>{}: {} targets, {b:.3}</title></circle>\n",
                x(a),
                y(b),
                s.colour,
                s.name,
                a as u64
            ));
        }
    }
    for (i, s) in series.iter().enumerate() {
        let ly = top + height + 36.0 + 16.0 * i as f64;
        svg.push_str(&format!(
            "<line x1=\"{left}\" y1=\"{:.1}\" x2=\"{}\" y2=\"{:.1}\" stroke=\"{}\" stroke-width=\"2\"/>\n<text x=\"{}\" y=\"{:.1}\">{}</text>\n",
            ly - 4.0,
            left + 20.0,
            ly - 4.0,
            s.colour,
            left + 26.0,
            ly,
            s.name
        ));
    }
}

/// 1,000 as "1k", 0.01 as "0.01".
fn axis_label(v: f64) -> String {
    if v >= 1000.0 {
        format!("{}k", v / 1000.0)
    } else if v >= 1.0 {
        format!("{v}")
    } else {
        format!("{v:.prec$}", prec = (-v.log10()).ceil() as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_labels_read_as_people_write_them() {
        assert_eq!(axis_label(0.01), "0.01");
        assert_eq!(axis_label(1.0), "1");
        assert_eq!(axis_label(100_000.0), "100k");
    }

    #[test]
    fn a_series_without_points_draws_no_point_and_breaks_nothing() {
        let empty = Series {
            name: "none",
            colour: "#000",
            points: Vec::new(),
        };
        let svg = two_panels(&[empty], None, &[], Some((150.0, "goal")));
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
        assert_eq!(svg.matches("<circle").count(), 0);
    }
}
