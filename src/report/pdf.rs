//! The report as an A4 landscape PDF: title and header block, rows grouped by district,
//! municipality and village, column headers repeated on every page, "Page n of N" and the print
//! date in the footer. DejaVu Sans (shipped in `assets/fonts`) renders any UTF-8 name.
//!
//! Rows have a fixed height (long cells are shortened with "…"), so the page count is known
//! before the first page is drawn: the same layout runs once over the villages' row counts, then
//! again over the rows as they arrive. Only the current page's drawing operations are buffered;
//! finished pages live in krilla's document as compressed content streams.

use std::collections::HashMap;

use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, FillRule, Stroke};
use krilla::text::{Font, GlyphId, KrillaGlyph};

use super::data::{ModeCounts, ReportError, ReportHeader, ReportRow, VillageGroup};
use crate::families::rules::NotificationMode;

static REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

const PAGE_W: f32 = 841.89;
const PAGE_H: f32 = 595.28;
const MARGIN: f32 = 28.0;
const CONTENT_W: f32 = PAGE_W - 2.0 * MARGIN;
const BODY_BOTTOM: f32 = PAGE_H - MARGIN - 8.0;
const PAD: f32 = 3.0;

const ROW_H: f32 = 12.5;
const ROW_SIZE: f32 = 7.8;
const GROUP_GAP: f32 = 5.0;
const DISTRICT_H: f32 = 17.0;
const MUNICIPALITY_H: f32 = 15.0;
const VILLAGE_H: f32 = 13.5;
const CONTINUED_H: f32 = 13.0;
const HEAD1_H: f32 = 12.0;
const HEAD2_H: f32 = 14.0;
const MAX_FILTER_LINES: usize = 6;

const BLUE: (u8, u8, u8) = (0x0b, 0x53, 0x94);
const FRAME: (u8, u8, u8) = (0x6f, 0xa8, 0xdc);
const HEAD_BG: (u8, u8, u8) = (0xdd, 0xe8, 0xf4);
const VILLAGE_BG: (u8, u8, u8) = (0xf1, 0xf5, 0xfa);
const ZEBRA: (u8, u8, u8) = (0xf6, 0xf6, 0xf6);
const GREY: (u8, u8, u8) = (0x55, 0x55, 0x55);
const BLACK: (u8, u8, u8) = (0, 0, 0);
const RULE: (u8, u8, u8) = (0xbb, 0xbb, 0xbb);

/// The table's columns: caption and width in points.
const COLUMNS: [(&str, f32); 9] = [
    ("Insurance no.", 82.0),
    ("Last name", 104.0),
    ("Given names", 118.0),
    ("Phone", 82.0),
    ("Approval", 46.0),
    ("Language", 54.0),
    ("Last name", 104.0),
    ("Given names", 114.0),
    ("Phone", 82.0),
];

/// One drawing operation of the current page.
enum Op {
    Text {
        x: f32,
        y: f32,
        size: f32,
        bold: bool,
        color: (u8, u8, u8),
        text: String,
        glyphs: Vec<KrillaGlyph>,
    },
    Rect {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        fill: (u8, u8, u8),
    },
    Frame {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        color: (u8, u8, u8),
        width: f32,
    },
    Line {
        x1: f32,
        y1: f32,
        x2: f32,
        y2: f32,
        color: (u8, u8, u8),
        width: f32,
    },
}

/// Shaping (rustybuzz, one parsed face per font for the whole document) and text widths.
struct Measure {
    regular: rustybuzz::Face<'static>,
    bold: rustybuzz::Face<'static>,
    regular_adv: HashMap<char, f32>,
    bold_adv: HashMap<char, f32>,
}

impl Measure {
    fn new() -> Result<Self, ReportError> {
        let load = |b: &'static [u8]| {
            rustybuzz::Face::from_slice(b, 0)
                .ok_or_else(|| ReportError::Render("a shipped font does not load".into()))
        };
        Ok(Measure {
            regular: load(REGULAR)?,
            bold: load(BOLD)?,
            regular_adv: HashMap::new(),
            bold_adv: HashMap::new(),
        })
    }

    fn face(&self, bold: bool) -> &rustybuzz::Face<'static> {
        if bold { &self.bold } else { &self.regular }
    }

    /// Advance of `c` at size 1 (without shaping; for fitting and wrapping).
    fn advance(&mut self, c: char, bold: bool) -> f32 {
        let (cache, face) = if bold {
            (&mut self.bold_adv, &self.bold)
        } else {
            (&mut self.regular_adv, &self.regular)
        };
        *cache.entry(c).or_insert_with(|| {
            let upem = f32::from(face.units_per_em().max(1) as u16);
            let gid = face.glyph_index(c).unwrap_or_default();
            face.glyph_hor_advance(gid)
                .map(|a| f32::from(a) / upem)
                .unwrap_or(0.6)
        })
    }

    fn width(&mut self, text: &str, size: f32, bold: bool) -> f32 {
        text.chars().map(|c| self.advance(c, bold)).sum::<f32>() * size
    }

    /// The glyphs of `text`, shaped with the font's OpenType features (any script DejaVu covers).
    fn shape(&self, text: &str, bold: bool) -> Vec<KrillaGlyph> {
        let face = self.face(bold);
        let upem = f32::from(face.units_per_em().max(1) as u16);
        let mut buffer = rustybuzz::UnicodeBuffer::new();
        buffer.push_str(text);
        buffer.guess_segment_properties();
        let output = rustybuzz::shape(face, &[], buffer);
        let infos = output.glyph_infos();
        let positions = output.glyph_positions();
        // A glyph's text range runs from its cluster to the next cluster start in the text.
        let mut starts: Vec<usize> = infos.iter().map(|i| i.cluster as usize).collect();
        starts.sort_unstable();
        starts.dedup();
        infos
            .iter()
            .zip(positions)
            .map(|(info, pos)| {
                let start = info.cluster as usize;
                let end = match starts.binary_search(&start) {
                    Ok(i) => starts.get(i + 1).copied().unwrap_or(text.len()),
                    Err(_) => text.len(),
                };
                KrillaGlyph::new(
                    GlyphId::new(info.glyph_id),
                    pos.x_advance as f32 / upem,
                    pos.x_offset as f32 / upem,
                    pos.y_offset as f32 / upem,
                    pos.y_advance as f32 / upem,
                    start..end,
                    None,
                )
            })
            .collect()
    }
    /// `text` shortened with "…" to fit `max` points.
    fn fit(&mut self, text: &str, size: f32, bold: bool, max: f32) -> String {
        let text = text.trim();
        if self.width(text, size, bold) <= max {
            return text.to_string();
        }
        let ellipsis = self.advance('…', bold) * size;
        let mut used = 0.0;
        let mut out = String::new();
        for c in text.chars() {
            let w = self.advance(c, bold) * size;
            if used + w + ellipsis > max {
                break;
            }
            used += w;
            out.push(c);
        }
        let mut out = out.trim_end().to_string();
        out.push('…');
        out
    }

    /// `text` broken into lines of at most `max` points (words longer than a line are shortened).
    fn wrap(&mut self, text: &str, size: f32, bold: bool, max: f32) -> Vec<String> {
        let mut lines = Vec::new();
        let mut line = String::new();
        for word in text.split_whitespace() {
            let candidate = if line.is_empty() {
                word.to_string()
            } else {
                format!("{line} {word}")
            };
            if self.width(&candidate, size, bold) <= max {
                line = candidate;
            } else {
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                line = self.fit(word, size, bold, max);
            }
        }
        if !line.is_empty() {
            lines.push(line);
        }
        lines
    }
}

/// Where drawing goes: a real page buffer, or nowhere (the counting pass).
struct Pager {
    drawing: bool,
    ops: Vec<Op>,
    doc: Option<Document>,
    fonts: Option<(Font, Font)>,
}

impl Pager {
    fn op(&mut self, op: Op) {
        if self.drawing {
            self.ops.push(op);
        }
    }

    fn flush(&mut self) -> Result<(), ReportError> {
        let ops = std::mem::take(&mut self.ops);
        let (Some(doc), Some((regular, bold))) = (self.doc.as_mut(), self.fonts.as_ref()) else {
            return Ok(());
        };
        let settings = PageSettings::from_wh(PAGE_W, PAGE_H)
            .ok_or_else(|| ReportError::Render("page size".into()))?;
        let mut page = doc.start_page_with(settings);
        let mut surface = page.surface();
        for op in ops {
            match op {
                Op::Text {
                    x,
                    y,
                    size,
                    bold: b,
                    color,
                    text,
                    glyphs,
                } => {
                    surface.set_fill(Some(fill(color)));
                    surface.set_stroke(None);
                    let font = if b { bold.clone() } else { regular.clone() };
                    surface.draw_glyphs(Point::from_xy(x, y), &glyphs, font, &text, size, false);
                }
                Op::Rect {
                    x,
                    y,
                    w,
                    h,
                    fill: c,
                } => {
                    if let Some(path) = rect_path(x, y, w, h) {
                        surface.set_fill(Some(fill(c)));
                        surface.set_stroke(None);
                        surface.draw_path(&path);
                    }
                }
                Op::Frame {
                    x,
                    y,
                    w,
                    h,
                    color,
                    width,
                } => {
                    if let Some(path) = rect_path(x, y, w, h) {
                        surface.set_fill(None);
                        surface.set_stroke(Some(stroke(color, width)));
                        surface.draw_path(&path);
                    }
                }
                Op::Line {
                    x1,
                    y1,
                    x2,
                    y2,
                    color,
                    width,
                } => {
                    let mut pb = PathBuilder::new();
                    pb.move_to(x1, y1);
                    pb.line_to(x2, y2);
                    if let Some(path) = pb.finish() {
                        surface.set_fill(None);
                        surface.set_stroke(Some(stroke(color, width)));
                        surface.draw_path(&path);
                    }
                }
            }
        }
        surface.finish();
        page.finish();
        Ok(())
    }
}

fn fill(c: (u8, u8, u8)) -> Fill {
    Fill {
        paint: rgb::Color::new(c.0, c.1, c.2).into(),
        opacity: NormalizedF32::ONE,
        rule: FillRule::NonZero,
    }
}

fn stroke(c: (u8, u8, u8), width: f32) -> Stroke {
    Stroke {
        paint: rgb::Color::new(c.0, c.1, c.2).into(),
        width,
        ..Stroke::default()
    }
}

fn rect_path(x: f32, y: f32, w: f32, h: f32) -> Option<krilla::geom::Path> {
    let mut pb = PathBuilder::new();
    pb.push_rect(Rect::from_xywh(x, y, w, h)?);
    pb.finish()
}

/// The current group (district, municipality, village labels).
#[derive(Clone, Default, PartialEq, Eq)]
struct Group {
    district: String,
    municipality: String,
    village: String,
}

/// The page layout, run once to count pages and once to draw them.
struct Layout<'a> {
    header: &'a ReportHeader,
    counts: &'a ModeCounts,
    listed: i64,
    measure: Measure,
    pager: Pager,
    total_pages: u32,
    page: u32,
    y: f32,
    group: Option<Group>,
    zebra: bool,
    filter_lines: Vec<String>,
}

impl<'a> Layout<'a> {
    fn new(
        header: &'a ReportHeader,
        counts: &'a ModeCounts,
        listed: i64,
        pager: Pager,
    ) -> Result<Self, ReportError> {
        let mut measure = Measure::new()?;
        let mut filter_lines = if header.other_filters.is_empty() {
            Vec::new()
        } else {
            measure.wrap(
                &header.other_filters.join(" · "),
                8.5,
                false,
                CONTENT_W - 2.0 * PAD - 110.0,
            )
        };
        if filter_lines.len() > MAX_FILTER_LINES {
            filter_lines.truncate(MAX_FILTER_LINES);
            if let Some(last) = filter_lines.last_mut() {
                last.push_str(" …");
            }
        }
        Ok(Layout {
            header,
            counts,
            listed,
            measure,
            pager,
            total_pages: 0,
            page: 0,
            y: 0.0,
            group: None,
            zebra: false,
            filter_lines,
        })
    }

    fn text(&mut self, x: f32, y: f32, size: f32, bold: bool, color: (u8, u8, u8), text: &str) {
        if self.pager.drawing && !text.is_empty() {
            let glyphs = self.measure.shape(text, bold);
            self.pager.op(Op::Text {
                x,
                y,
                size,
                bold,
                color,
                text: text.to_string(),
                glyphs,
            });
        }
    }

    /// Text shortened to `max` points.
    #[allow(clippy::too_many_arguments)]
    fn cell(
        &mut self,
        x: f32,
        y: f32,
        size: f32,
        bold: bool,
        color: (u8, u8, u8),
        text: &str,
        max: f32,
    ) {
        if self.pager.drawing && !text.trim().is_empty() {
            let t = self.measure.fit(text, size, bold, max);
            self.text(x, y, size, bold, color, &t);
        }
    }

    fn right_text(&mut self, right: f32, y: f32, size: f32, color: (u8, u8, u8), text: &str) {
        if self.pager.drawing {
            let w = self.measure.width(text, size, false);
            self.text(right - w, y, size, false, color, text);
        }
    }

    fn end_page(&mut self) -> Result<(), ReportError> {
        if self.page == 0 {
            return Ok(());
        }
        let y = PAGE_H - MARGIN;
        self.pager.op(Op::Line {
            x1: MARGIN,
            y1: y - 6.0,
            x2: PAGE_W - MARGIN,
            y2: y - 6.0,
            color: RULE,
            width: 0.5,
        });
        let printed = format!(
            "Printed on {} UTC",
            self.header.printed_at.format("%d/%m/%Y %H:%M")
        );
        self.text(MARGIN, y + 4.0, 7.5, false, GREY, &printed);
        let page = if self.total_pages >= self.page {
            format!("Page {} of {}", self.page, self.total_pages)
        } else {
            format!("Page {}", self.page)
        };
        self.right_text(PAGE_W - MARGIN, y + 4.0, 7.5, GREY, &page);
        self.pager.flush()
    }

    fn start_page(&mut self) -> Result<(), ReportError> {
        self.end_page()?;
        self.page += 1;
        self.zebra = false;
        let mut y = MARGIN + 14.0;
        let title = self.header.title.clone();
        self.text(MARGIN, y, 15.0, true, BLUE, &title);
        if self.page > 1 {
            let mut place = format!("Region: {}", self.header.region);
            if !self.header.district.is_empty() {
                place.push_str(&format!("   District: {}", self.header.district));
            }
            place.push_str(&format!("   Mode: {}", self.header.mode_label));
            let place = self.measure.fit(&place, 8.0, false, 420.0);
            self.right_text(PAGE_W - MARGIN, y, 8.0, GREY, &place);
        }
        y += 7.0;
        self.pager.op(Op::Line {
            x1: MARGIN,
            y1: y,
            x2: PAGE_W - MARGIN,
            y2: y,
            color: BLUE,
            width: 1.0,
        });
        y += 7.0;
        if self.page == 1 {
            y = self.summary(y);
        }
        self.y = self.table_head(y);
        Ok(())
    }

    /// The header block of the first page; returns the y below it.
    fn summary(&mut self, top: f32) -> f32 {
        let h = 62.0;
        self.pager.op(Op::Frame {
            x: MARGIN,
            y: top,
            w: CONTENT_W,
            h,
            color: FRAME,
            width: 1.0,
        });
        // The families column is the widest: its counts stand in two sub-columns, so that seven-
        // digit counts fit without being shortened.
        let cols = [
            (MARGIN + PAD + 3.0, 185.0),
            (MARGIN + 200.0, 165.0),
            (MARGIN + 375.0, 155.0),
            (MARGIN + 540.0, CONTENT_W - 540.0 - PAD),
        ];
        let captions = ["LOCATION", "ENROLMENT OFFICER", "MODE", "FAMILIES"];
        for (i, cap) in captions.iter().enumerate() {
            self.text(cols[i].0, top + 12.0, 7.0, true, BLUE, cap);
        }
        let none = |s: &str| {
            if s.is_empty() {
                "-".to_string()
            } else {
                s.to_string()
            }
        };
        let (region, district) = (
            format!("Region: {}", none(&self.header.region)),
            format!("District: {}", none(&self.header.district)),
        );
        let (officer_code, officer_name) = match &self.header.officer {
            Some(o) => (format!("Code: {}", o.code), format!("Name: {}", o.name)),
            None => ("All officers".to_string(), String::new()),
        };
        let mode = self.header.mode_label.clone();
        let lines: [[String; 3]; 3] = [
            [region, district, String::new()],
            [officer_code, officer_name, String::new()],
            [format!("Mode {}", self.header.mode), mode, String::new()],
        ];
        for (i, col) in lines.iter().enumerate() {
            for (j, line) in col.iter().enumerate() {
                let (size, bold) = if j == 0 { (9.5, true) } else { (8.5, false) };
                self.cell(
                    cols[i].0,
                    top + 26.0 + 13.0 * j as f32,
                    size,
                    bold,
                    BLACK,
                    line,
                    cols[i].1,
                );
            }
        }
        // Families: the listed count beside the selection's total ("All", before the mode
        // filter), then the count per mode in two sub-columns.
        let (x, w) = cols[3];
        let split = 142.0;
        let c = |m| self.counts.get(m);
        let families = [
            (
                format!("Listed: {}", self.listed),
                format!("All: {}", c(NotificationMode::All)),
            ),
            (
                format!(
                    "Approval and phone: {}",
                    c(NotificationMode::ApprovalAndPhone)
                ),
                format!("Phone only: {}", c(NotificationMode::PhoneOnly)),
            ),
            (
                format!("Approval only: {}", c(NotificationMode::ApprovalOnly)),
                format!("Neither: {}", c(NotificationMode::Neither)),
            ),
        ];
        for (j, (left, right)) in families.iter().enumerate() {
            let y = top + 26.0 + 13.0 * j as f32;
            let (size, bold) = if j == 0 { (9.5, true) } else { (8.5, false) };
            self.cell(x, y, size, bold, BLACK, left, split - 4.0);
            self.cell(x + split, y, 8.5, false, BLACK, right, w - split);
        }
        let mut y = top + h + 8.0;
        if !self.filter_lines.is_empty() {
            self.text(MARGIN + PAD, y + 8.0, 7.0, true, BLUE, "ADDITIONAL FILTERS");
            let lines = self.filter_lines.clone();
            for (i, line) in lines.iter().enumerate() {
                self.text(
                    MARGIN + 110.0,
                    y + 8.0 + 11.0 * i as f32,
                    8.5,
                    false,
                    BLACK,
                    line,
                );
            }
            y += 11.0 * lines.len() as f32 + 6.0;
        }
        y + 2.0
    }

    /// The two-level column header; returns the y below it.
    fn table_head(&mut self, top: f32) -> f32 {
        let family_w: f32 = COLUMNS[..6].iter().map(|c| c.1).sum();
        let member_w: f32 = COLUMNS[6..].iter().map(|c| c.1).sum();
        self.pager.op(Op::Rect {
            x: MARGIN,
            y: top,
            w: CONTENT_W,
            h: HEAD1_H + HEAD2_H,
            fill: HEAD_BG,
        });
        self.text(MARGIN + PAD, top + 9.0, 7.5, true, BLUE, "FAMILY HEAD");
        self.text(
            MARGIN + family_w + PAD,
            top + 9.0,
            7.5,
            true,
            BLUE,
            "OTHER MEMBER WITH A PHONE (when the head has none)",
        );
        self.pager.op(Op::Line {
            x1: MARGIN + family_w,
            y1: top,
            x2: MARGIN + family_w,
            y2: top + HEAD1_H + HEAD2_H,
            color: FRAME,
            width: 0.8,
        });
        let _ = member_w;
        let mut x = MARGIN;
        for (caption, w) in COLUMNS {
            self.cell(
                x + PAD,
                top + HEAD1_H + 9.5,
                7.5,
                true,
                BLACK,
                caption,
                w - 2.0 * PAD,
            );
            x += w;
        }
        let bottom = top + HEAD1_H + HEAD2_H;
        self.pager.op(Op::Line {
            x1: MARGIN,
            y1: bottom,
            x2: PAGE_W - MARGIN,
            y2: bottom,
            color: BLUE,
            width: 0.8,
        });
        bottom + 1.0
    }

    /// The grey "… (continued)" line at the top of a page that starts inside a group.
    fn continued_line(&mut self, text: &str) {
        self.cell(
            MARGIN + PAD,
            self.y + 9.0,
            7.8,
            false,
            GREY,
            text,
            CONTENT_W - 2.0 * PAD,
        );
        self.y += CONTINUED_H;
    }

    fn ensure(&mut self, h: f32) -> Result<bool, ReportError> {
        if self.page == 0 || self.y + h > BODY_BOTTOM {
            self.start_page()?;
            return Ok(true);
        }
        Ok(false)
    }

    /// Places one family row (`None` in the counting pass).
    fn row(&mut self, group: Group, row: Option<&ReportRow>) -> Result<(), ReportError> {
        let changed = self.group.as_ref() != Some(&group);
        if changed {
            let prev = self.group.clone().unwrap_or_default();
            let first = self.group.is_none();
            let new_district = first || prev.district != group.district;
            let new_municipality = new_district || prev.municipality != group.municipality;
            let mut h = VILLAGE_H + ROW_H;
            if new_district {
                h += DISTRICT_H + GROUP_GAP;
            }
            if new_municipality {
                h += MUNICIPALITY_H;
            }
            if self.ensure(h)? && !new_district {
                // A new page in the middle of a district (or municipality): say where the next
                // heading belongs.
                let t = if new_municipality {
                    format!("{} (continued)", group.district)
                } else {
                    format!("{} › {} (continued)", group.district, group.municipality)
                };
                self.continued_line(&t);
            }
            if new_district {
                self.y += GROUP_GAP;
                let t = format!("District: {}", group.district);
                self.cell(
                    MARGIN + PAD,
                    self.y + 12.5,
                    10.5,
                    true,
                    BLUE,
                    &t,
                    CONTENT_W - 2.0 * PAD,
                );
                self.y += DISTRICT_H;
                self.pager.op(Op::Line {
                    x1: MARGIN,
                    y1: self.y - 1.5,
                    x2: PAGE_W - MARGIN,
                    y2: self.y - 1.5,
                    color: FRAME,
                    width: 0.6,
                });
            }
            if new_municipality {
                let t = format!("Municipality: {}", group.municipality);
                self.cell(
                    MARGIN + PAD + 6.0,
                    self.y + 11.0,
                    9.0,
                    true,
                    BLACK,
                    &t,
                    CONTENT_W - 12.0,
                );
                self.y += MUNICIPALITY_H;
            }
            self.pager.op(Op::Rect {
                x: MARGIN,
                y: self.y,
                w: CONTENT_W,
                h: VILLAGE_H - 1.5,
                fill: VILLAGE_BG,
            });
            let t = format!("Village: {}", group.village);
            self.cell(
                MARGIN + PAD + 12.0,
                self.y + 9.0,
                8.2,
                true,
                BLACK,
                &t,
                CONTENT_W - 18.0,
            );
            self.y += VILLAGE_H;
            self.group = Some(group);
            self.zebra = false;
        } else if self.ensure(ROW_H)? {
            // A new page in the middle of a village: say where the rows belong.
            let t = format!(
                "{} › {} › {} (continued)",
                group.district, group.municipality, group.village
            );
            self.continued_line(&t);
        }
        if let Some(r) = row {
            if self.zebra {
                self.pager.op(Op::Rect {
                    x: MARGIN,
                    y: self.y,
                    w: CONTENT_W,
                    h: ROW_H,
                    fill: ZEBRA,
                });
            }
            let approval = if r.approval { "Yes" } else { "No" };
            let language = if r.language.is_empty() {
                "-"
            } else {
                &r.language
            };
            let cells: [&str; 9] = [
                &r.insurance_number,
                &r.last_name,
                &r.given_name,
                &r.phone,
                approval,
                language,
                &r.alternative_last_name,
                &r.alternative_given_name,
                &r.alternative_phone,
            ];
            let mut x = MARGIN;
            let baseline = self.y + 9.0;
            for (i, text) in cells.iter().enumerate() {
                let w = COLUMNS[i].1;
                self.cell(
                    x + PAD,
                    baseline,
                    ROW_SIZE,
                    false,
                    BLACK,
                    text,
                    w - 2.0 * PAD,
                );
                x += w;
            }
        }
        self.zebra = !self.zebra;
        self.y += ROW_H;
        Ok(())
    }

    fn finish(&mut self) -> Result<u32, ReportError> {
        if self.page == 0 {
            // An empty report still has its header and a note.
            self.start_page()?;
            self.text(
                MARGIN + PAD,
                self.y + 16.0,
                9.0,
                false,
                GREY,
                "No family matches the selection.",
            );
        }
        self.end_page()?;
        Ok(self.page)
    }
}

fn group_of(v: &VillageGroup) -> Group {
    Group {
        district: v.district.to_string(),
        municipality: v.municipality.to_string(),
        village: v.village.to_string(),
    }
}

fn group_of_row(r: &ReportRow) -> Group {
    Group {
        district: r.district.to_string(),
        municipality: r.municipality.to_string(),
        village: r.village.to_string(),
    }
}

/// The number of pages the report will have.
pub fn page_count(
    header: &ReportHeader,
    counts: &ModeCounts,
    villages: &[VillageGroup],
) -> Result<u32, ReportError> {
    let listed = villages.iter().map(|v| v.rows).sum();
    let pager = Pager {
        drawing: false,
        ops: Vec::new(),
        doc: None,
        fonts: None,
    };
    let mut layout = Layout::new(header, counts, listed, pager)?;
    for v in villages {
        let g = group_of(v);
        for _ in 0..v.rows {
            layout.row(g.clone(), None)?;
        }
    }
    layout.finish()
}

/// Renders the report; `rows` yields the rows in report order (errors abort the rendering).
pub fn render(
    header: &ReportHeader,
    counts: &ModeCounts,
    villages: &[VillageGroup],
    rows: impl Iterator<Item = Result<ReportRow, ReportError>>,
) -> Result<Vec<u8>, ReportError> {
    let total_pages = page_count(header, counts, villages)?;
    let regular = Font::new(REGULAR.into(), 0)
        .ok_or_else(|| ReportError::Render("the regular font does not load".into()))?;
    let bold = Font::new(BOLD.into(), 0)
        .ok_or_else(|| ReportError::Render("the bold font does not load".into()))?;
    let mut doc = Document::new();
    doc.set_metadata(
        krilla::metadata::Metadata::new()
            .title(header.title.clone())
            .creator("openimis-policy-notification".to_string()),
    );
    let pager = Pager {
        drawing: true,
        ops: Vec::new(),
        doc: Some(doc),
        fonts: Some((regular, bold)),
    };
    let listed = villages.iter().map(|v| v.rows).sum();
    let mut layout = Layout::new(header, counts, listed, pager)?;
    layout.total_pages = total_pages;
    for row in rows {
        let row = row?;
        layout.row(group_of_row(&row), Some(&row))?;
    }
    layout.finish()?;
    let doc = layout
        .pager
        .doc
        .take()
        .ok_or_else(|| ReportError::Render("document missing".into()))?;
    doc.finish()
        .map_err(|e| ReportError::Render(format!("{e:?}")))
}
