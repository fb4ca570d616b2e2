//! Tests of events and sections: the rule on a generated "family life" with ground
//! truth, and the index's events and sections on real SQLite libraries.

use super::*;
use crate::error::LibraryError;
use crate::library::Library;
use crate::model::{MediaKind, MediaQuery, SortOrder};

// ---- a generated family life ----------------------------------------------------------

/// splitmix64: deterministic, no dependency.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub(crate) fn f(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub(crate) fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.f() < p
    }
    /// Exponential with this mean.
    fn exp(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.f()).ln()
    }
}

/// A generated shot: when, where (if the camera knew), and the true event.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GenShot {
    pub t: i64,
    pub place: Option<(f64, f64)>,
    pub truth: usize,
}

const DAY: i64 = 86_400;
const HOUR: i64 = 3600;
/// 2021-01-01 00:00 UTC, a Friday. The generator's clock is the local one.
pub(crate) const START: i64 = 1_609_459_200;
const HOME: (f64, f64) = (52.37, 4.89);

struct Gen {
    rng: Rng,
    shots: Vec<GenShot>,
    truth: usize,
    gps: bool,
}

impl Gen {
    fn near(&mut self, at: (f64, f64), km: f64) -> Option<(f64, f64)> {
        if !self.gps || !self.rng.chance(0.7) {
            return None;
        }
        let d = km / 111.0;
        Some((at.0 + (self.rng.f() - 0.5) * d, at.1 + (self.rng.f() - 0.5) * d * 1.6))
    }

    /// Shots from `from` to about `until` (seconds): pauses of a few minutes, now and
    /// then a burst, now and then a longer pause (under the session gap).
    fn activity(&mut self, from: i64, until: i64, mean_gap: f64, at: (f64, f64)) {
        let mut t = from as f64;
        while (t as i64) < until {
            if self.rng.chance(0.15) {
                for _ in 0..self.rng.range(3, 8) {
                    let place = self.near(at, 2.0);
                    self.shots.push(GenShot { t: t as i64, place, truth: self.truth });
                    t += 0.7;
                }
            } else {
                let place = self.near(at, 2.0);
                self.shots.push(GenShot { t: t as i64, place, truth: self.truth });
            }
            t += if self.rng.chance(0.05) { self.rng.range(40 * 60, 110 * 60) as f64 } else { self.rng.exp(mean_gap) };
        }
    }

    fn next_event(&mut self) {
        self.truth += 1;
    }

    /// A trip of `days` days starting on `day`, far from home; a road trip moves on
    /// every night. Some days are quiet (a travel day: a few shots).
    fn trip(&mut self, day: i64, days: i64, road: bool) {
        let mut at = (HOME.0 + self.rng.f() * 6.0 - 3.0, HOME.1 + 3.0 + self.rng.f() * 6.0);
        for k in 0..days {
            let d = START + (day + k) * DAY;
            if k > 0 && road {
                at = (at.0 + 0.6, at.1 + 0.4);
            }
            let first = if k == 0 { self.rng.range(11, 14) } else { self.rng.range(8, 10) };
            let last = if k == days - 1 { self.rng.range(13, 16) } else { self.rng.range(19, 21) };
            // Morning, lunch, afternoon, evening.
            let lunch = self.rng.range(12 * 60, 13 * 60) * 60;
            if first * HOUR < lunch {
                self.activity(d + first * HOUR, d + lunch, 420.0, at);
            }
            let after = lunch.max(first * HOUR) + self.rng.range(60, 120) * 60;
            self.activity(d + after, d + last * HOUR, 420.0, at);
        }
        self.next_event();
    }

    /// A party: many shots and bursts in a few hours.
    fn party(&mut self, from: i64, hours: i64) {
        self.activity(from, from + hours * HOUR, 120.0, HOME);
        self.next_event();
    }

    /// An outing of a few hours on a weekend day, somewhere within an hour of home.
    fn outing(&mut self, d: i64) {
        let start = self.rng.range(9, 15);
        let hours = self.rng.range(2, 5);
        let at = (HOME.0 + self.rng.f() * 0.6 - 0.3, HOME.1 + self.rng.f() * 0.6 - 0.3);
        let minute = self.rng.range(0, 59);
        self.activity(d + start * HOUR + minute * 60, d + (start + hours) * HOUR, 300.0, at);
        self.next_event();
    }

    /// A moment: one to four shots in a few minutes.
    fn moment(&mut self, t: i64) {
        for _ in 0..self.rng.range(1, 4) {
            let place = self.near(HOME, 10.0);
            self.shots.push(GenShot { t: t + self.rng.range(0, 600), place, truth: self.truth });
        }
        self.next_event();
    }
}

/// `years` of a family's pictures from 2021 with the true event of each, in time order:
/// weekday moments, weekend outings, birthday parties with bursts, Christmas and New
/// Year's Eve, a summer trip (a road trip every other year), a spring city trip and an
/// autumn long weekend away.
pub(crate) fn family_life(seed: u64, years: i64, gps: bool) -> Vec<GenShot> {
    let mut g = Gen { rng: Rng(seed), shots: Vec::new(), truth: 0, gps };
    for y in 0..years {
        let base = y * 365;
        let mut busy = std::collections::HashSet::new();
        let summer = base + 190 + g.rng.range(0, 20);
        let spring = base + 95 + g.rng.range(0, 20);
        let autumn = base + 280 + g.rng.range(0, 20);
        let birthdays = [base + 40, base + 130, base + 250, base + 320];
        for day in base..base + 365 {
            if busy.contains(&day) {
                continue;
            }
            let d = START + day * DAY;
            let weekday = (day + 4) % 7; // 0 = Monday (2021-01-01 was a Friday)
            if day == summer {
                let n = g.rng.range(5, 9);
                g.trip(day, n, y % 2 == 1);
                busy.extend(day..day + n);
            } else if day == spring {
                g.trip(day, 3, false);
                busy.extend(day..day + 3);
            } else if day == autumn {
                g.trip(day, 2, false);
                busy.extend(day..day + 2);
            } else if birthdays.contains(&day) {
                let hour = if weekday >= 5 { 14 } else { 16 };
                g.party(d + hour * HOUR, 3);
            } else if day == base + 357 {
                // Christmas Eve dinner and Christmas Day: one event.
                g.activity(d + 17 * HOUR, d + 22 * HOUR, 300.0, HOME);
                g.activity(d + DAY + 10 * HOUR, d + DAY + 18 * HOUR, 300.0, HOME);
                g.next_event();
                busy.insert(day + 1);
            } else if day == base + 364 {
                // New Year's Eve, past midnight.
                g.party(d + 20 * HOUR, 5);
            } else if weekday >= 5 {
                if g.rng.chance(0.08) {
                    // The playground in the morning, grandparents 60 km away after lunch.
                    g.activity(d + 10 * HOUR, d + 12 * HOUR, 300.0, HOME);
                    g.next_event();
                    let away = (HOME.0 - 0.45, HOME.1 - 0.4);
                    g.activity(d + 13 * HOUR + 30 * 60, d + 17 * HOUR, 300.0, away);
                    g.next_event();
                } else if g.rng.chance(0.55) {
                    g.outing(d);
                } else if g.rng.chance(0.4) {
                    let t = d + g.rng.range(9, 19) * HOUR;
                    g.moment(t);
                }
            } else {
                let r = g.rng.f();
                if r < 0.35 {
                    let t = d + g.rng.range(7, 21) * HOUR;
                    g.moment(t);
                } else if r < 0.45 {
                    let t = d + g.rng.range(7, 8) * HOUR;
                    g.moment(t);
                    let t = d + g.rng.range(17, 20) * HOUR;
                    g.moment(t);
                }
            }
        }
    }
    g.shots.sort_by_key(|s| s.t);
    g.shots
}

/// Agreement of a clustering (event starts) with the truth.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Agreement {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub ari: f64,
    /// True events found exactly (same shots, no more, no less).
    pub exact: f64,
    pub events: usize,
    pub true_events: usize,
}

pub(crate) fn agreement(shots: &[GenShot], starts: &[usize]) -> Agreement {
    let n = shots.len();
    let mut predicted = vec![0usize; n];
    for (k, w) in starts.iter().enumerate() {
        let end = starts.get(k + 1).copied().unwrap_or(n);
        predicted[*w..end].fill(k);
    }
    let pairs = |c: usize| (c * c.saturating_sub(1) / 2) as f64;
    let mut joint: HashMap<(usize, usize), usize> = HashMap::new();
    let mut a: HashMap<usize, usize> = HashMap::new();
    let mut b: HashMap<usize, usize> = HashMap::new();
    for (s, &p) in shots.iter().zip(&predicted) {
        *joint.entry((p, s.truth)).or_default() += 1;
        *a.entry(p).or_default() += 1;
        *b.entry(s.truth).or_default() += 1;
    }
    let tp: f64 = joint.values().map(|&c| pairs(c)).sum();
    let pp: f64 = a.values().map(|&c| pairs(c)).sum();
    let tt: f64 = b.values().map(|&c| pairs(c)).sum();
    let all = pairs(n);
    let expected = pp * tt / all;
    let ari = (tp - expected) / (0.5 * (pp + tt) - expected);
    let (precision, recall) = (tp / pp, tp / tt);
    // Exact: a predicted event whose every shot has one truth, holding all of it.
    let exact = joint.iter().filter(|((p, t), &c)| a[p] == c && b[t] == c).count();
    Agreement {
        precision,
        recall,
        f1: 2.0 * precision * recall / (precision + recall),
        ari,
        exact: exact as f64 / b.len() as f64,
        events: a.len(),
        true_events: b.len(),
    }
}

fn as_shots(g: &[GenShot]) -> Vec<Shot> {
    g.iter().map(|s| Shot { t: s.t, place: s.place }).collect()
}

#[test]
fn the_rule_agrees_with_a_generated_family_life() {
    let base = Rule::default();
    let rules = [
        ("rule", base),
        ("fixed 3 h gap", Rule { factor: 0.0, ..base }),
        ("fixed 16 h gap", Rule { session_gap: 16 * HOUR, ..base }),
        ("rule without GPS", Rule { place_km: f64::INFINITY, ..base }),
        ("factor 1.5", Rule { factor: 1.5, ..base }),
        ("factor 3", Rule { factor: 3.0, ..base }),
        ("max join 18 h", Rule { max_join_gap: 18 * HOUR, ..base }),
        ("session gap 2 h", Rule { session_gap: 2 * HOUR, ..base }),
    ];
    let mut results = Vec::new();
    for seed in [1, 2, 3] {
        let life = family_life(seed, 3, true);
        let shots = as_shots(&life);
        for (name, rule) in &rules {
            let a = agreement(&life, &cluster(&shots, rule));
            println!(
                "seed {seed} {name:18} {} shots: F1 {:.3} (P {:.3} R {:.3}) ARI {:.3} exact {:.3} ({} events, truth {})",
                life.len(),
                a.f1,
                a.precision,
                a.recall,
                a.ari,
                a.exact,
                a.events,
                a.true_events
            );
            results.push((*name, seed, a));
        }
    }
    for (name, seed, a) in &results {
        if *name == "rule" {
            assert!(a.f1 >= 0.95 && a.ari >= 0.95, "seed {seed}: {a:?}");
            assert!(a.exact >= 0.95, "seed {seed}: {a:?}");
        }
    }
    // Each simpler rule does worse on every seed: the joining across nights matters.
    for seed in [1, 2, 3] {
        let f1 = |n: &str| results.iter().find(|r| r.0 == n && r.1 == seed).map(|r| r.2.f1).unwrap_or(0.0);
        let exact = |n: &str| results.iter().find(|r| r.0 == n && r.1 == seed).map(|r| r.2.exact).unwrap_or(0.0);
        assert!(f1("rule") > f1("fixed 3 h gap"), "seed {seed}");
        assert!(exact("rule") > exact("fixed 16 h gap"), "seed {seed}");
        assert!(exact("rule") > exact("rule without GPS"), "seed {seed}: another place the same day");
    }
}

#[test]
fn a_trip_is_one_event_and_everyday_afternoons_are_not_merged() {
    let rule = Rule::default();
    let mut shots = Vec::new();
    // Mon-Wed: an hour in the park each afternoon, a shot every 10 minutes.
    for day in 0..3 {
        for k in 0..6 {
            shots.push(Shot { t: START + day * DAY + 15 * HOUR + k * 600, place: None });
        }
    }
    // Thu 12:00 - Sat 14:00: a trip, 9:00-20:00 each full day, a shot every 20 minutes.
    let trip_from = shots.len();
    for day in 3..6 {
        let (from, to) = match day {
            3 => (12, 20),
            5 => (9, 14),
            _ => (9, 20),
        };
        let mut t = START + day * DAY + from * HOUR;
        while t <= START + day * DAY + to * HOUR {
            shots.push(Shot { t, place: None });
            t += 1200;
        }
    }
    let starts = cluster(&shots, &rule);
    assert_eq!(starts, vec![0, 6, 12, trip_from], "three afternoons, then one trip");
}

#[test]
fn another_place_the_same_day_is_another_event_but_a_trip_moves_on_overnight() {
    let rule = Rule::default();
    let park = Some((52.37, 4.89));
    let grandma = Some((51.92, 4.48)); // ~57 km away
    let mut shots = Vec::new();
    for k in 0..12 {
        shots.push(Shot { t: START + 10 * HOUR + k * 600, place: park });
    }
    // 90 minutes later (a drive), at grandma's.
    for k in 0..12 {
        shots.push(Shot { t: START + 13 * HOUR + 30 * 60 + k * 600, place: grandma });
    }
    assert_eq!(cluster(&shots, &rule), vec![0, 12]);
    let no_gps: Vec<Shot> = shots.iter().map(|s| Shot { place: None, ..*s }).collect();
    assert_eq!(cluster(&no_gps, &rule), vec![0], "without GPS, a 90-minute pause is the same outing");

    // A trip: 9:00-20:00 in one city, the next day 9:00-20:00 in another 300 km on.
    let mut trip = Vec::new();
    for (day, at) in [(0, (48.85, 2.35)), (1, (45.76, 4.84))] {
        for k in 0..34 {
            trip.push(Shot { t: START + day * DAY + 9 * HOUR + k * 1200, place: Some(at) });
        }
    }
    assert_eq!(cluster(&trip, &rule), vec![0]);
}

#[test]
fn names_from_dates() {
    assert_eq!(date_range_name((2021, 8, 3), (2021, 8, 3)), "3 Aug 2021");
    assert_eq!(date_range_name((2021, 8, 12), (2021, 8, 14)), "12–14 Aug 2021");
    assert_eq!(date_range_name((2021, 7, 30), (2021, 8, 2)), "30 Jul – 2 Aug 2021");
    assert_eq!(date_range_name((2020, 12, 30), (2021, 1, 2)), "30 Dec 2020 – 2 Jan 2021");
}

// ---- the index ------------------------------------------------------------------------

/// A library with one album root row and media rows inserted directly (for large or
/// exact generated libraries; the files' own paths are tested in tests/browse.rs).
pub(crate) struct TestLibrary {
    pub lib: Library,
    pub root: RootId,
    _dir: tempfile::TempDir,
}

impl TestLibrary {
    pub(crate) fn new() -> TestLibrary {
        let dir = tempfile::tempdir().unwrap();
        let lib = Library::open(&dir.path().join("data")).unwrap();
        lib.conn().execute("INSERT INTO roots (path, name, added_at) VALUES ('/album', 'album', 0)", []).unwrap();
        let root = lib.conn().last_insert_rowid();
        TestLibrary { lib, root, _dir: dir }
    }

    /// Inserts a photo (or video) taken at `t`; returns its id.
    pub(crate) fn add(&self, name: &str, t: i64, kind: MediaKind) -> i64 {
        let conn = self.lib.conn();
        conn.execute(
            "INSERT INTO media (root_id, path, name, kind, size, mtime_ms, taken_at, taken_source, width, height)
             VALUES (?1, ?2, ?3, ?4, 1000, ?5, ?6, 'exif', 4000, 3000)",
            params![self.root, format!("/album/{name}"), name, kind.as_str(), t * 1000, t],
        )
        .unwrap();
        // Rows written straight into `media` mark the events as the index does for the
        // rows it inserts (crate::scan; there is no INSERT trigger).
        mark_dirty(&conn).unwrap();
        conn.last_insert_rowid()
    }

    pub(crate) fn add_many(&self, shots: &[GenShot]) -> Vec<i64> {
        let mut conn = self.lib.conn();
        let tx = conn.transaction().unwrap();
        let mut ids = Vec::with_capacity(shots.len());
        {
            let mut stmt = tx
                .prepare(
                    "INSERT INTO media (root_id, path, name, kind, size, mtime_ms, taken_at, taken_source, latitude, longitude)
                     VALUES (?1, ?2, ?3, ?4, 1000, ?5, ?5, 'exif', ?6, ?7)",
                )
                .unwrap();
            for (i, s) in shots.iter().enumerate() {
                let kind = if i % 10 == 9 { "video" } else { "photo" };
                stmt.execute(params![
                    self.root,
                    format!("/album/{i:06}.jpg"),
                    format!("{i:06}.jpg"),
                    kind,
                    s.t,
                    s.place.map(|p| p.0),
                    s.place.map(|p| p.1)
                ])
                .unwrap();
                ids.push(tx.last_insert_rowid());
            }
        }
        mark_dirty(&tx).unwrap();
        tx.commit().unwrap();
        ids
    }

    pub(crate) fn exec(&self, sql: &str) {
        self.lib.conn().execute_batch(sql).unwrap();
    }
}

fn local_key(conn: &Connection, t: i64, format: &str) -> String {
    conn.query_row("SELECT strftime(?2, ?1, 'unixepoch', 'localtime')", params![t, format], |r| r.get(0)).unwrap()
}

#[test]
fn sections_add_up_to_the_grid_in_its_order() {
    let t = TestLibrary::new();
    let life = family_life(7, 1, false);
    let ids = t.add_many(&life[..2000]);
    // A Live Photo's movie and a deleted item are not in the grid, nor in its sections.
    t.exec(&format!("UPDATE media SET live_of = {} WHERE id = {}", ids[0], ids[1]));
    t.exec(&format!("UPDATE media SET presence = 'deleted' WHERE id = {}", ids[2]));
    for sort in [SortOrder::TakenDesc, SortOrder::TakenAsc] {
        for kind in [None, Some(MediaKind::Photo), Some(MediaKind::Video)] {
            for by in [SectionSize::Month, SectionSize::Day] {
                let q = MediaQuery { sort, kind, ..Default::default() };
                let sections = t.lib.catalog().date_sections(&q, by).unwrap();
                let total: u64 = sections.iter().map(|s| s.count).sum();
                assert_eq!(total, t.lib.catalog().media_count(&q).unwrap(), "{sort:?} {kind:?} {by:?}");
                // Walking the grid in its order meets the sections in theirs, with their counts.
                let items = t.lib.catalog().media(&q).unwrap();
                let format = if by == SectionSize::Month { "%Y-%m" } else { "%Y-%m-%d" };
                let conn = t.lib.conn();
                let mut walked: Vec<DateSection> = Vec::new();
                for item in &items {
                    let key = local_key(&conn, item.taken_at, format);
                    match walked.last_mut() {
                        Some(s) if s.key == key => s.count += 1,
                        _ => walked.push(DateSection { key, count: 1 }),
                    }
                }
                assert_eq!(sections, walked, "{sort:?} {kind:?} {by:?}");
            }
        }
    }
    let months = t.lib.catalog().date_sections(&MediaQuery::default(), SectionSize::Month).unwrap();
    let days = t.lib.catalog().date_sections(&MediaQuery::default(), SectionSize::Day).unwrap();
    assert!(months.len() >= 3 && days.len() > months.len(), "{} months, {} days", months.len(), days.len());
    assert!(months.iter().all(|m| m.key.len() == 7) && days.iter().all(|d| d.key.len() == 10));
    let by_name = MediaQuery { sort: SortOrder::Name, ..Default::default() };
    assert!(t.lib.catalog().date_sections(&by_name, SectionSize::Month).unwrap().is_empty());
    // Filtered to one event: that event's count.
    let events = t.lib.catalog().events(None).unwrap();
    let e = &events[events.len() / 2];
    let q = MediaQuery { event: Some(e.id), ..Default::default() };
    let in_event: u64 = t.lib.catalog().date_sections(&q, SectionSize::Day).unwrap().iter().map(|s| s.count).sum();
    assert_eq!(in_event, e.count);
    assert_eq!(t.lib.catalog().media(&q).unwrap().len() as u64, e.count);
}

#[test]
fn events_match_the_rule_and_keep_ids_and_names_across_regrouping() {
    let t = TestLibrary::new();
    let life = family_life(11, 1, true);
    let ids = t.add_many(&life);
    let events = t.lib.catalog().events(None).unwrap();
    let expected = cluster(&as_shots(&life), &Rule::default());
    assert_eq!(events.len(), expected.len());
    assert!(events.windows(2).all(|w| w[0].start_at >= w[1].start_at), "newest first");
    let total: u64 = events.iter().map(|e| e.count).sum();
    assert_eq!(total, life.len() as u64);
    assert!(events.iter().all(|e| e.photos + e.videos == e.count && e.cover.is_some() && !e.named));
    // Nothing changed: nothing to do.
    assert_eq!(t.lib.catalog().refresh_events().unwrap(), None);

    // The summer trip (the longest event), renamed.
    let trip = events.iter().max_by_key(|e| e.end_at - e.start_at).unwrap().clone();
    assert!(trip.end_at - trip.start_at > 4 * DAY, "{trip:?}");
    assert!(trip.name.contains('–'), "a date range: {}", trip.name);
    let renamed = t.lib.catalog().rename_event(trip.id, Some("  Summer in Provence ")).unwrap();
    assert_eq!((renamed.id, renamed.name.as_str(), renamed.named), (trip.id, "Summer in Provence", true));

    // A shot added to a quiet weekday far from the trip: one new event, every id kept.
    t.add("new.jpg", START + 32 * DAY + 3 * HOUR, MediaKind::Photo);
    let done = t.lib.catalog().refresh_events().unwrap().unwrap();
    assert_eq!((done.created, done.deleted, done.moved), (1, 0, 1), "{done:?}");
    let after = t.lib.catalog().events(None).unwrap();
    assert_eq!(after.len(), events.len() + 1);
    for e in &events {
        assert!(after.iter().any(|a| a.id == e.id && a.count == e.count), "event {} kept", e.id);
    }
    // A third of the trip's shots vanish: same event, same name.
    let members: Vec<i64> =
        ids.iter().zip(&life).filter(|(_, s)| s.t >= trip.start_at && s.t <= trip.end_at).map(|(id, _)| *id).collect();
    let gone: Vec<String> = members.iter().step_by(3).map(i64::to_string).collect();
    t.exec(&format!("UPDATE media SET presence = 'deleted' WHERE id IN ({})", gone.join(",")));
    let after = t.lib.catalog().events(None).unwrap();
    let kept = after.iter().find(|e| e.id == trip.id).unwrap();
    assert_eq!((kept.name.as_str(), kept.count), ("Summer in Provence", (members.len() - gone.len()) as u64));
    let stale: i64 = t
        .lib
        .conn()
        .query_row("SELECT COUNT(*) FROM media WHERE presence = 'deleted' AND event_id IS NOT NULL", [], |r| r.get(0))
        .unwrap();
    assert_eq!(stale, 0, "vanished shots left their event");
    // Back to its dates when asked.
    let back = t.lib.catalog().rename_event(trip.id, Some("   ")).unwrap();
    assert!(!back.named && back.name.contains('–'));
    t.lib.catalog().rename_event(trip.id, Some("Summer")).unwrap();
    // Most of it gone: the name goes with it; all of it gone: the event too.
    let more: Vec<String> = members.iter().map(i64::to_string).collect();
    let keep = more.len() / 4;
    t.exec(&format!("UPDATE media SET presence = 'deleted' WHERE id IN ({})", more[keep..].join(",")));
    let after = t.lib.catalog().events(None).unwrap();
    let e = after.iter().find(|e| e.id == trip.id).unwrap();
    assert!(!e.named, "{e:?}");
    t.exec(&format!("UPDATE media SET presence = 'deleted' WHERE id IN ({})", more.join(",")));
    assert!(t.lib.catalog().events(None).unwrap().iter().all(|e| e.id != trip.id), "an empty event is deleted");
    assert!(matches!(t.lib.catalog().rename_event(trip.id, Some("x")), Err(LibraryError::NoSuchEvent(_))));
}

#[test]
fn rename_refuses_what_cannot_be_a_name() {
    let t = TestLibrary::new();
    t.add("a.jpg", START, MediaKind::Photo);
    let e = &t.lib.catalog().events(None).unwrap()[0];
    let long = "x".repeat(MAX_EVENT_NAME + 1);
    for bad in [long.as_str(), "two\nlines", "tab\there"] {
        let err = t.lib.catalog().rename_event(e.id, Some(bad)).unwrap_err();
        assert_eq!(err.code(), crate::ErrorCode::Invalid, "{bad:?}");
    }
    let html = t.lib.catalog().rename_event(e.id, Some("<b>Oma's 80th</b> & co")).unwrap();
    assert_eq!(html.name, "<b>Oma's 80th</b> & co");
}

#[test]
fn event_cover_is_the_best_picture_faces_first() {
    let t = TestLibrary::new();
    let a = t.add("a.jpg", START, MediaKind::Photo);
    let b = t.add("b.jpg", START + 60, MediaKind::Photo);
    let c = t.add("c.jpg", START + 120, MediaKind::Photo);
    let v = t.add("v.mp4", START + 180, MediaKind::Video);
    let cover = || t.lib.catalog().events(None).unwrap()[0].cover.as_ref().map(|c| c.id);
    // Nothing scored: a still, the largest.
    t.exec(&format!("UPDATE media SET width = 6000, height = 4000 WHERE id = {c}"));
    assert_eq!(cover(), Some(c));
    // A video's best pick counts while its own score is not set.
    t.exec(&format!(
        "INSERT INTO picks (media_id, rank, time, score, image, width, height) VALUES ({v}, 1, 1.0, 0.9, 'f.jpg', 64, 48)"
    ));
    assert_eq!(cover(), Some(v));
    t.exec(&format!("UPDATE media SET score = 0.95 WHERE id = {a}"));
    assert_eq!(cover(), Some(a));
    // Faces first.
    t.exec(&format!("UPDATE media SET score = 0.5, faces = 2 WHERE id = {b}"));
    assert_eq!(cover(), Some(b));
}

#[test]
fn regrouping_100k_items_is_quick_and_writes_only_what_changed() {
    let t = TestLibrary::new();
    let life = family_life(5, 8, true);
    let mut shots = life.clone();
    while shots.len() < 100_000 {
        let offset = (shots.len() / life.len()) as i64 * 8 * 365 * DAY;
        shots.extend(life.iter().map(|s| GenShot { t: s.t + offset, ..*s }));
    }
    shots.truncate(100_000);
    t.add_many(&shots);
    let t0 = std::time::Instant::now();
    let first = t.lib.catalog().refresh_events().unwrap().unwrap();
    let full = t0.elapsed();
    let t0 = std::time::Instant::now();
    assert_eq!(t.lib.catalog().refresh_events().unwrap(), None);
    let clean = t0.elapsed();
    t.add("one-more.jpg", START + 32 * DAY + 3 * HOUR, MediaKind::Photo);
    let t0 = std::time::Instant::now();
    let again = t.lib.catalog().refresh_events().unwrap().unwrap();
    let incremental = t0.elapsed();
    assert_eq!((again.created, again.deleted, again.moved), (1, 0, 1), "{again:?}");
    let q = MediaQuery::default();
    let t0 = std::time::Instant::now();
    let months = t.lib.catalog().date_sections(&q, SectionSize::Month).unwrap();
    let month_ms = t0.elapsed();
    let t0 = std::time::Instant::now();
    let days = t.lib.catalog().date_sections(&q, SectionSize::Day).unwrap();
    let day_ms = t0.elapsed();
    let t0 = std::time::Instant::now();
    let events = t.lib.catalog().events(None).unwrap();
    let list = t0.elapsed();
    println!(
        "100k items, {} events: first grouping {full:?}, nothing to do {clean:?}, one added {incremental:?}; \
         sections by month {month_ms:?} ({}), by day {day_ms:?} ({}); events list {list:?}",
        first.events,
        months.len(),
        days.len()
    );
    assert_eq!(events.len(), first.events + 1);
    assert_eq!(days.iter().map(|d| d.count).sum::<u64>(), 100_001);
}
