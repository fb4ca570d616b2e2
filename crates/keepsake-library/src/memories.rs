//! Memories: small collections of the best pictures from the past that the first screen
//! offers and plays as a looping slideshow. Built in the library, from the index and its
//! events, so they are the same in the app and `keepsake memories`, and `now` is a
//! parameter so tests (and a user's "what would today show") are deterministic.
//!
//! Three kinds, today's first (most recent year first), then one per past year:
//! - **On this day**: the same month and day in an earlier year, with at least
//!   [`ON_THIS_DAY_MIN`] items (29 February only in leap years).
//! - **N years ago this week**: for a year with no "on this day", the 7 days around
//!   today's date that year (±3 days), with at least [`YEARS_AGO_MIN`] items. One or
//!   the other per year, so the same pictures never show twice.
//! - **Best of <year>**: every past year with at least [`BEST_OF_MIN`] items, spread
//!   over its events: each event's best, then each event's second best, and so on.
//!
//! Selection: bursts collapse to their best shot (consecutive shots at most
//! [`BURST_SECONDS`] apart whose difference hashes differ in at most [`BURST_BITS`] bits;
//! without hashes, at most [`BURST_SECONDS_UNHASHED`] apart), then the best pictures
//! are taken, at most [`MAX_MEMORY_ITEMS`], and played in time order. "Best": scored
//! items by their score's rank among the candidates plus a bonus when faces are seen,
//! unscored items after every scored one (stills, then larger pictures first). Ranks,
//! not raw scores, so a photo's score and a video's pick score need not share a scale.
//! Only items that are there and readable are chosen (present, not failed).

use std::collections::HashMap;

use rusqlite::{params, Connection};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::db::Presence;
use crate::error::Result;
use crate::events::{date_range_name, EventId, MONTHS};
use crate::media;
use crate::model::{MediaId, MediaItem, MediaState};

/// The most items a memory plays.
pub const MAX_MEMORY_ITEMS: usize = 40;
/// Fewest items on a day for an "On this day".
pub const ON_THIS_DAY_MIN: usize = 3;
/// Fewest items in the week for an "N years ago this week".
pub const YEARS_AGO_MIN: usize = 5;
/// Fewest items in a year for a "Best of".
pub const BEST_OF_MIN: usize = 20;
/// Consecutive shots at most this far apart (seconds) may be one burst...
pub const BURST_SECONDS: i64 = 5;
/// ...when their difference hashes differ in at most this many bits...
pub const BURST_BITS: u32 = 12;
/// ...or, when either has no hash yet, when they are at most this far apart.
pub const BURST_SECONDS_UNHASHED: i64 = 2;
/// What seeing faces adds to a picture's rank (ranks go from 0 to 1).
const FACES_BONUS: f64 = 0.3;

/// What kind of memory.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, TS)]
#[serde(rename_all = "snake_case")]
pub enum MemoryKind {
    OnThisDay,
    YearsAgo,
    BestOfYear,
}

/// A collection to play: its pictures in time order.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, TS)]
pub struct Memory {
    /// Stable id: "on-this-day-2023-11-30", "years-ago-3-2026-w48", "best-of-2021".
    pub key: String,
    pub kind: MemoryKind,
    /// "On this day", "3 years ago this week", "Best of 2021".
    pub title: String,
    /// "30 Nov 2023 · 14 photos & videos".
    pub subtitle: String,
    pub cover: MediaItem,
    pub items: Vec<MediaItem>,
}

/// A candidate picture.
#[derive(Debug, Clone)]
struct Candidate {
    id: MediaId,
    t: i64,
    photo: bool,
    score: Option<f64>,
    faces: bool,
    dhash: Option<i64>,
    pixels: i64,
    event: Option<EventId>,
    /// How good, for choosing (see the module docs); set by [`rank`].
    value: f64,
}

fn candidates(conn: &Connection, from: i64, until: i64) -> Result<Vec<Candidate>> {
    let mut stmt = conn.prepare_cached(
        "SELECT m.id, m.taken_at, m.kind, COALESCE(m.score, (SELECT MAX(p.score) FROM picks p WHERE p.media_id = m.id)),
           COALESCE(m.faces, 0) > 0, m.dhash, COALESCE(m.width, 0) * COALESCE(m.height, 0), m.event_id
         FROM media m
         WHERE m.presence = ?3 AND m.live_of IS NULL AND m.state != ?4 AND m.taken_at >= ?1 AND m.taken_at < ?2
         ORDER BY m.taken_at, m.id",
    )?;
    let rows = stmt.query_map(params![from, until, Presence::Present, MediaState::Failed], |r| {
        Ok(Candidate {
            id: r.get(0)?,
            t: r.get(1)?,
            photo: r.get::<_, String>(2)? == "photo",
            score: r.get::<_, Option<f64>>(3)?.filter(|s| s.is_finite()),
            faces: r.get(4)?,
            dhash: r.get(5)?,
            pixels: r.get(6)?,
            event: r.get(7)?,
            value: 0.0,
        })
    })?;
    let mut all: Vec<Candidate> = rows.collect::<std::result::Result<_, _>>()?;
    rank(&mut all);
    Ok(all)
}

/// Sets each candidate's value: scored ones 1 + their score's rank (0..1) + a bonus for
/// faces; unscored ones below 1 (faces, stills, larger pictures first).
fn rank(all: &mut [Candidate]) {
    let mut scores: Vec<f64> = all.iter().filter_map(|c| c.score).collect();
    scores.sort_by(f64::total_cmp);
    let n = scores.len().max(1) as f64;
    let max_pixels = all.iter().map(|c| c.pixels).max().unwrap_or(0).max(1) as f64;
    for c in all.iter_mut() {
        let faces = if c.faces { FACES_BONUS } else { 0.0 };
        c.value = match c.score {
            Some(s) => {
                let below = scores.partition_point(|x| *x < s) as f64;
                1.0 + below / n + faces
            }
            None => 0.5 * faces + 0.3 * f64::from(u8::from(c.photo)) + 0.1 * (c.pixels as f64 / max_pixels),
        };
    }
}

fn better(a: &Candidate, b: &Candidate) -> std::cmp::Ordering {
    b.value.total_cmp(&a.value).then(a.t.cmp(&b.t)).then(a.id.cmp(&b.id))
}

/// Collapses bursts (in time order) to their best shot.
fn collapse_bursts(all: Vec<Candidate>) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = Vec::with_capacity(all.len());
    let mut prev: Option<(i64, Option<i64>)> = None;
    for c in all {
        let same_burst = prev.is_some_and(|(t, hash)| {
            let gap = c.t - t;
            match (hash, c.dhash) {
                (Some(a), Some(b)) => gap <= BURST_SECONDS && (a ^ b).count_ones() <= BURST_BITS,
                _ => gap <= BURST_SECONDS_UNHASHED,
            }
        });
        prev = Some((c.t, c.dhash));
        match out.last_mut() {
            Some(last) if same_burst => {
                if better(&c, last) == std::cmp::Ordering::Less {
                    *last = c;
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// The best `cap` in time order.
fn best(mut all: Vec<Candidate>, cap: usize) -> Vec<Candidate> {
    all.sort_by(better);
    all.truncate(cap);
    all.sort_by_key(|c| (c.t, c.id));
    all
}

/// Spread over events: each event's best, then each one's second best, ... up to `cap`.
fn best_per_event(all: Vec<Candidate>, cap: usize) -> Vec<Candidate> {
    let mut groups: HashMap<Option<EventId>, Vec<Candidate>> = HashMap::new();
    for c in all {
        groups.entry(c.event).or_default().push(c);
    }
    let mut groups: Vec<Vec<Candidate>> = groups.into_values().collect();
    for g in &mut groups {
        g.sort_by(better);
    }
    groups.sort_by(|a, b| better(&a[0], &b[0]));
    let mut chosen = Vec::new();
    let mut round = 0;
    while chosen.len() < cap {
        let mut any = false;
        for g in &groups {
            if let Some(c) = g.get(round) {
                any = true;
                if chosen.len() < cap {
                    chosen.push(c.clone());
                }
            }
        }
        if !any {
            break;
        }
        round += 1;
    }
    chosen.sort_by_key(|c| (c.t, c.id));
    chosen
}

/// "14 photos & videos", "1 photo", "3 videos".
fn count_phrase(all: &[Candidate]) -> String {
    let photos = all.iter().filter(|c| c.photo).count();
    let videos = all.len() - photos;
    let plural = |n: usize, one: &str| if n == 1 { format!("1 {one}") } else { format!("{n} {one}s") };
    match (photos, videos) {
        (_, 0) => plural(photos, "photo"),
        (0, _) => plural(videos, "video"),
        (p, v) => format!("{} photos & videos", p + v),
    }
}

/// Local calendar helpers, through SQLite so they agree with the grid's sections.
fn local_date(conn: &Connection, t: i64) -> Result<(i32, u32, u32)> {
    Ok(conn.query_row(
        "SELECT CAST(strftime('%Y', ?1, 'unixepoch', 'localtime') AS INTEGER),
                CAST(strftime('%m', ?1, 'unixepoch', 'localtime') AS INTEGER),
                CAST(strftime('%d', ?1, 'unixepoch', 'localtime') AS INTEGER)",
        [t],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?)
}

/// Unix seconds of local midnight starting `(y, m, d)` plus `days` days.
fn local_midnight(conn: &Connection, (y, m, d): (i32, u32, u32), days: i64) -> Result<i64> {
    Ok(conn.query_row(
        "SELECT CAST(strftime('%s', printf('%04d-%02d-%02d', ?1, ?2, ?3), ?4 || ' days', 'utc') AS INTEGER)",
        params![y, m, d, days],
        |r| r.get(0),
    )?)
}

fn is_leap(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn items(conn: &Connection, chosen: &[Candidate]) -> Result<Vec<MediaItem>> {
    media::items_by_ids(conn, &chosen.iter().map(|c| c.id).collect::<Vec<_>>())
}

fn memory(
    conn: &Connection,
    key: String,
    kind: MemoryKind,
    title: String,
    subtitle: String,
    chosen: &[Candidate],
) -> Result<Option<Memory>> {
    let Some(top) = chosen.iter().min_by(|a, b| better(a, b)) else { return Ok(None) };
    let top = top.id;
    let items = items(conn, chosen)?;
    let Some(cover) = items.iter().find(|i| i.id == top).cloned() else { return Ok(None) };
    Ok(Some(Memory { key, kind, title, subtitle, cover, items }))
}

pub(crate) fn memories(conn: &Connection, now: i64) -> Result<Vec<Memory>> {
    let today = local_date(conn, now)?;
    let (year, month, day) = today;
    let week: String = conn.query_row("SELECT strftime('%W', ?1, 'unixepoch', 'localtime')", [now], |r| r.get(0))?;
    let first: Option<i64> = conn.query_row(
        "SELECT MIN(taken_at) FROM media WHERE presence = ?1 AND live_of IS NULL",
        [Presence::Present],
        |r| r.get(0),
    )?;
    let Some(first) = first else { return Ok(Vec::new()) };
    let first_year = local_date(conn, first)?.0;
    let mut out = Vec::new();
    // Today's: the most recent year first.
    for y in (first_year..year).rev() {
        let n = year - y;
        if month == 2 && day == 29 && !is_leap(y) {
            continue;
        }
        let from = local_midnight(conn, (y, month, day), 0)?;
        let until = local_midnight(conn, (y, month, day), 1)?;
        let on_day = collapse_input(candidates(conn, from, until)?);
        if on_day.1 >= ON_THIS_DAY_MIN {
            let subtitle = format!("{day} {} {y} · {}", MONTHS[month as usize - 1], on_day.2);
            let chosen = best(on_day.0, MAX_MEMORY_ITEMS);
            let key = format!("on-this-day-{y:04}-{month:02}-{day:02}");
            out.extend(memory(conn, key, MemoryKind::OnThisDay, "On this day".into(), subtitle, &chosen)?);
            continue;
        }
        // The day itself may not exist that year (29 Feb): the week is then around 28 Feb.
        let from = local_midnight(conn, (y, month, day), -3)?;
        let until = local_midnight(conn, (y, month, day), 4)?;
        let week_items = collapse_input(candidates(conn, from, until)?);
        if week_items.1 >= YEARS_AGO_MIN {
            let chosen = best(week_items.0, MAX_MEMORY_ITEMS);
            let (Some(a), Some(b)) = (chosen.first(), chosen.last()) else { continue };
            let range = date_range_name(local_date(conn, a.t)?, local_date(conn, b.t)?);
            let subtitle = format!("{range} · {}", week_items.2);
            let key = format!("years-ago-{n}-{year:04}-w{week}");
            let title = if n == 1 { "1 year ago this week".to_owned() } else { format!("{n} years ago this week") };
            out.extend(memory(conn, key, MemoryKind::YearsAgo, title, subtitle, &chosen)?);
        }
    }
    // Best of each past year, newest first.
    for y in (first_year..year).rev() {
        let from = local_midnight(conn, (y, 1, 1), 0)?;
        let until = local_midnight(conn, (y + 1, 1, 1), 0)?;
        let (all, count, phrase) = collapse_input(candidates(conn, from, until)?);
        if count < BEST_OF_MIN {
            continue;
        }
        let events = all.iter().filter_map(|c| c.event).collect::<std::collections::HashSet<_>>().len();
        let chosen = best_per_event(all, MAX_MEMORY_ITEMS);
        let subtitle = match events {
            0 | 1 => phrase,
            e => format!("{phrase} from {e} events"),
        };
        out.extend(memory(
            conn,
            format!("best-of-{y}"),
            MemoryKind::BestOfYear,
            format!("Best of {y}"),
            subtitle,
            &chosen,
        )?);
    }
    Ok(out)
}

/// Candidates with bursts collapsed, how many there were before, and that in words.
fn collapse_input(all: Vec<Candidate>) -> (Vec<Candidate>, usize, String) {
    let n = all.len();
    let phrase = count_phrase(&all);
    (collapse_bursts(all), n, phrase)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::tests::TestLibrary;
    use crate::model::MediaKind;

    /// Unix seconds of `h:mm` local time on a local date.
    fn at(t: &TestLibrary, date: (i32, u32, u32), h: i64, m: i64) -> i64 {
        local_midnight(&t.lib.conn(), date, 0).unwrap() + h * 3600 + m * 60
    }

    fn set(t: &TestLibrary, id: i64, score: Option<f64>, faces: Option<i64>, dhash: Option<i64>) {
        t.lib
            .conn()
            .execute(
                "UPDATE media SET score = ?2, faces = ?3, dhash = ?4 WHERE id = ?1",
                params![id, score, faces, dhash],
            )
            .unwrap();
    }

    #[test]
    fn memories_for_a_fixed_day() {
        let t = TestLibrary::new();
        let now = at(&t, (2026, 11, 30), 12, 0);
        // 30 Nov 2025: a burst of four near-identical shots and two more pictures.
        let burst: Vec<i64> =
            (0..4).map(|k| t.add(&format!("b{k}.jpg"), at(&t, (2025, 11, 30), 10, 0) + k, MediaKind::Photo)).collect();
        for (id, score) in burst.iter().zip([0.2, 0.9, 0.5, 0.4]) {
            set(&t, *id, Some(score), Some(0), Some(0x0F0F_0F0F_0F0F_0F0F ^ (*id & 3)));
        }
        let lunch = t.add("lunch.jpg", at(&t, (2025, 11, 30), 13, 0), MediaKind::Photo);
        set(&t, lunch, Some(0.85), Some(2), Some(0x1234));
        let evening = t.add("evening.mp4", at(&t, (2025, 11, 30), 19, 0), MediaKind::Video);
        set(&t, evening, Some(0.7), Some(0), None);
        // 2024: two pictures that day, none around it: nothing.
        t.add("x1.jpg", at(&t, (2024, 11, 30), 9, 0), MediaKind::Photo);
        t.add("x2.jpg", at(&t, (2024, 11, 30), 11, 0), MediaKind::Photo);
        // 2023: nothing on the 30th, six pictures two days before: 3 years ago this week.
        for k in 0..6 {
            t.add(&format!("w{k}.jpg"), at(&t, (2023, 11, 28), 15, k * 10), MediaKind::Photo);
        }
        // 2022: 30 pictures over three outings, the best of each scored.
        let mut best_2022 = Vec::new();
        for (e, date) in [(2022, 3, 5), (2022, 6, 18), (2022, 9, 10)].into_iter().enumerate() {
            for k in 0..10 {
                let id = t.add(&format!("y{e}-{k}.jpg"), at(&t, date, 10, k * 15), MediaKind::Photo);
                let score = if k == 7 { 0.95 - e as f64 * 0.1 } else { 0.1 + k as f64 * 0.01 };
                set(&t, id, Some(score), Some(0), None);
                if k == 7 {
                    best_2022.push(id);
                }
            }
        }
        // This year does not get a Best of yet.
        for k in 0..25 {
            t.add(&format!("now{k}.jpg"), at(&t, (2026, 2, 1), 10, k), MediaKind::Photo);
        }

        let memories = t.lib.catalog().memories(now).unwrap();
        let keys: Vec<&str> = memories.iter().map(|m| m.key.as_str()).collect();
        let week: String =
            t.lib.conn().query_row("SELECT strftime('%W', ?1, 'unixepoch', 'localtime')", [now], |r| r.get(0)).unwrap();
        assert_eq!(
            keys,
            ["on-this-day-2025-11-30".to_owned(), format!("years-ago-3-2026-w{week}"), "best-of-2022".into()]
        );

        let day = &memories[0];
        assert_eq!((day.kind, day.title.as_str()), (MemoryKind::OnThisDay, "On this day"));
        assert_eq!(day.subtitle, "30 Nov 2025 · 6 photos & videos");
        let ids: Vec<i64> = day.items.iter().map(|i| i.id).collect();
        assert_eq!(ids, [burst[1], lunch, evening], "the burst collapsed to its best, in time order");
        assert_eq!(day.cover.id, lunch, "faces favoured over a slightly better score");

        let week = &memories[1];
        assert_eq!((week.kind, week.title.as_str()), (MemoryKind::YearsAgo, "3 years ago this week"));
        assert_eq!(week.subtitle, "28 Nov 2023 · 6 photos");
        assert_eq!(week.items.len(), 6);

        let year = &memories[2];
        assert_eq!((year.kind, year.title.as_str()), (MemoryKind::BestOfYear, "Best of 2022"));
        assert_eq!(year.subtitle, "30 photos from 3 events");
        assert_eq!(year.items.len(), 30);
        assert!(year.items.windows(2).all(|w| w[0].taken_at <= w[1].taken_at), "time order");
        assert_eq!(year.cover.id, best_2022[0]);
    }

    #[test]
    fn best_of_a_year_is_capped_and_spread_over_its_events() {
        let t = TestLibrary::new();
        let now = at(&t, (2026, 6, 1), 12, 0);
        // 2021: one big party (100 pictures, all scored well) and 12 small outings.
        for k in 0..100 {
            let id = t.add(&format!("p{k}.jpg"), at(&t, (2021, 5, 1), 14, 0) + k * 60, MediaKind::Photo);
            set(&t, id, Some(0.5 + k as f64 * 0.004), Some(0), None);
        }
        let mut outing_best = Vec::new();
        for m in 0..12u32 {
            let date = (2021, 1 + m % 12, 20);
            if m == 4 {
                continue; // 20 May is after the party already
            }
            let a = t.add(&format!("o{m}a.jpg"), at(&t, date, 10, 0), MediaKind::Photo);
            let b = t.add(&format!("o{m}b.jpg"), at(&t, date, 10, 30), MediaKind::Photo);
            set(&t, a, Some(0.3), Some(0), None);
            set(&t, b, Some(0.2), Some(0), None);
            outing_best.push(a);
        }
        let memories = t.lib.catalog().memories(now).unwrap();
        let year = memories.iter().find(|m| m.key == "best-of-2021").unwrap();
        assert_eq!(year.items.len(), MAX_MEMORY_ITEMS);
        let ids: Vec<i64> = year.items.iter().map(|i| i.id).collect();
        for id in &outing_best {
            assert!(ids.contains(id), "each outing's best is in, however the party scored");
        }
        assert!(year.items.windows(2).all(|w| w[0].taken_at <= w[1].taken_at));
    }

    #[test]
    fn bursts_need_closeness_in_time_and_in_picture() {
        let c = |id: i64, t: i64, dhash: Option<i64>, score: f64| Candidate {
            id,
            t,
            photo: true,
            score: Some(score),
            faces: false,
            dhash,
            pixels: 1,
            event: None,
            value: score,
        };
        let kept = |all: Vec<Candidate>| collapse_bursts(all).into_iter().map(|c| c.id).collect::<Vec<_>>();
        // No hashes: 2 s apart is a burst, 3 s is not.
        assert_eq!(kept(vec![c(1, 0, None, 0.1), c(2, 2, None, 0.5), c(3, 5, None, 0.2)]), [2, 3]);
        // Hashes: alike within 5 s is a burst; different pictures a second apart are not.
        assert_eq!(kept(vec![c(1, 0, Some(0xFF), 0.9), c(2, 4, Some(0xFE), 0.5)]), [1]);
        assert_eq!(kept(vec![c(1, 0, Some(0), 0.9), c(2, 1, Some(-1), 0.5)]), [1, 2]);
    }
}
