//! Browsing by time: the grid's date headers ([`DateSection`]) and events ([`Event`]),
//! runs of shots without a long pause, which the library keeps right as files come and
//! go. Memories, which are built from events, are in `crate::memories`.
//!
//! Why in the library and not the page: a family album has 100k items and the page
//! only ever holds a screenful; headers and events are aggregates over all of them, so
//! they are computed where the rows are (SQLite), with the grid's own filter
//! ([`crate::media`]), and stay right for files the page never loaded.
//!
//! **Sections** are one `GROUP BY` of the local date (SQLite's `localtime`, which is the
//! zone the page's `Date` formats in) over the grid's filter, in the grid's order.
//!
//! **Events** (the rule and how it was tuned: docs/events.md). Shots in time order are
//! cut into *sessions* at pauses longer than [`Rule::session_gap`] (3 h), or where the
//! places known on either side of a pause of an hour or more are far apart (GPS, where
//! the camera wrote it). Sessions then join into one event across a longer pause (a
//! night on a trip) when the pause is short next to how busy the sides are: at most
//! [`Rule::factor`] (2) times the longer of the event's span over its last 24 hours and
//! the next session's span, never more than [`Rule::max_join_gap`] (16 h), and not to
//! somewhere else the same day. A trip's days span 8-12 hours and its nights 10-14, so
//! its days join; a shot or two on weekday afternoons spans minutes, so those never
//! join, however close, and a weekend outing of a few hours does not reach the next day.
//!
//! **Staying right.** Rather than each writer (scan, watcher, the photo-date pass, Live
//! Photo pairing, album removal; in this process or in `keepsake` on the command line)
//! remembering to say "events changed", every connection the library opens gets
//! temporary triggers on `media` that mark the events dirty (a `settings` row) when a
//! row goes, or its date, presence, Live Photo link or place changes. A row arriving is
//! marked by the one index path that inserts rows (`crate::scan`: once per batch, not a
//! trigger per row, which cost a bulk scan a statement journal for every insert).
//! `Catalog::refresh_events` (in `crate::catalog`, which uses this module) recomputes in one write transaction when marked: every
//! read of events does first, and the analyzer's background pass does every few
//! seconds. A recomputation reads `(id, taken_at, place, event)` of every present item
//! and writes only rows whose event changed; clusters keep the id of the old event they
//! share most members with, and a user's name stays while most of the named event's
//! members remain.

use std::collections::HashMap;

use rusqlite::{params, params_from_iter, Connection, TransactionBehavior};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::db::Presence;
use crate::error::Result;
use crate::media;
use crate::model::{MediaItem, MediaQuery, RootId, SortOrder};

pub use crate::model::EventId;

/// One timeline header, in the grid's order.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, TS)]
pub struct DateSection {
    /// `2019-07` (month) or `2019-07-14` (day), in local time.
    pub key: String,
    pub count: u64,
}

/// How finely the timeline's headers divide the grid.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, TS)]
#[serde(rename_all = "lowercase")]
pub enum SectionSize {
    #[default]
    Month,
    Day,
}

/// A run of photos and videos taken without a long pause: an afternoon, a party, a trip.
/// `AlbumEvent` on the page, where `Event` is the DOM's.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, TS)]
#[ts(rename = "AlbumEvent")]
pub struct Event {
    pub id: EventId,
    /// The user's name, else its dates: "12–14 Aug 2021", "3 Aug 2021".
    pub name: String,
    /// Whether the user named it.
    pub named: bool,
    /// Unix seconds of its first and last shot.
    pub start_at: i64,
    pub end_at: i64,
    pub count: u64,
    pub photos: u64,
    pub videos: u64,
    /// Its best picture (faces first, then the engine's score).
    pub cover: Option<MediaItem>,
}

/// The longest name an event may be given.
pub const MAX_EVENT_NAME: usize = 200;

/// The `settings` key that marks the events out of date.
pub(crate) const DIRTY_KEY: &str = "events_dirty";

/// Temporary (per-connection) triggers that mark the events dirty on any change that
/// can move a shot between events. Temporary, so they need no schema version and every
/// process that opens the library has them.
///
/// No trigger on INSERT: new rows come only through `crate::scan` (`insert_new`,
/// `insert_file`), which marks the events dirty once per transaction. A per-row trigger
/// made SQLite keep a statement journal (a copy of every page an INSERT touches) for
/// each of a 100k-file scan's inserts: ~10% of `keepsake add` (docs/bench-scan.md).
const TRIGGERS: &str = "
    CREATE TEMP TRIGGER IF NOT EXISTS events_dirty_delete AFTER DELETE ON main.media
    BEGIN INSERT OR IGNORE INTO settings (key, value) VALUES ('events_dirty', '1'); END;
    CREATE TEMP TRIGGER IF NOT EXISTS events_dirty_update
    AFTER UPDATE OF taken_at, presence, live_of, latitude, longitude ON main.media
    WHEN OLD.taken_at IS NOT NEW.taken_at OR OLD.presence IS NOT NEW.presence OR OLD.live_of IS NOT NEW.live_of
      OR OLD.latitude IS NOT NEW.latitude OR OLD.longitude IS NOT NEW.longitude
    BEGIN INSERT OR IGNORE INTO settings (key, value) VALUES ('events_dirty', '1'); END;
";

/// Installs the triggers on a connection and marks the events dirty once (a library
/// from before events, or changed by an older Keepsake, is grouped on first use).
pub(crate) fn install(conn: &Connection) -> Result<()> {
    conn.execute_batch(TRIGGERS)?;
    mark_dirty(conn)?;
    Ok(())
}

/// Marks the events out of date (the index calls it for the rows it inserts).
pub(crate) fn mark_dirty(conn: &Connection) -> Result<()> {
    conn.prepare_cached("INSERT OR IGNORE INTO settings (key, value) VALUES (?1, '1')")?.execute([DIRTY_KEY])?;
    Ok(())
}

pub(crate) fn is_dirty(conn: &Connection) -> Result<bool> {
    Ok(conn.query_row("SELECT EXISTS (SELECT 1 FROM settings WHERE key = ?1)", [DIRTY_KEY], |r| r.get(0))?)
}

// ---- sections -----------------------------------------------------------------------

pub(crate) fn date_sections(conn: &Connection, q: &MediaQuery, by: SectionSize) -> Result<Vec<DateSection>> {
    let order = match q.sort {
        SortOrder::TakenDesc => "DESC",
        SortOrder::TakenAsc => "ASC",
        SortOrder::Name => return Ok(Vec::new()),
    };
    let format = match by {
        SectionSize::Month => "%Y-%m",
        SectionSize::Day => "%Y-%m-%d",
    };
    let (where_sql, args) = media::filter(q);
    let sql = format!(
        "SELECT strftime('{format}', m.taken_at, 'unixepoch', 'localtime') AS k, COUNT(*) FROM media m{where_sql}
         GROUP BY k ORDER BY k {order}"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params_from_iter(args), |r| {
        Ok(DateSection { key: r.get::<_, Option<String>>(0)?.unwrap_or_default(), count: r.get(1)? })
    })?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

// ---- clustering ---------------------------------------------------------------------

/// The event rule's constants (see the module docs and docs/events.md for the tuning).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rule {
    /// A pause longer than this (seconds) ends a session.
    pub session_gap: i64,
    /// Sessions join across a pause of at most `factor` times the busier side's span...
    pub factor: f64,
    /// ...and never across more than this (seconds).
    pub max_join_gap: i64,
    /// How far back (seconds) the event's own span is measured for joining.
    pub recent: i64,
    /// Two shots with GPS this far apart (km)...
    pub place_km: f64,
    /// ...after at least this pause (seconds) are different outings, even within a session,
    pub place_gap: i64,
    /// ...and across a pause shorter than this (seconds): a trip moves on overnight.
    pub place_night: i64,
}

impl Default for Rule {
    fn default() -> Self {
        Rule {
            session_gap: 3 * 3600,
            factor: 2.0,
            max_join_gap: 16 * 3600,
            recent: 24 * 3600,
            place_km: 30.0,
            place_gap: 3600,
            place_night: 8 * 3600,
        }
    }
}

/// One shot as the rule sees it: when, and where if known (degrees).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shot {
    pub t: i64,
    pub place: Option<(f64, f64)>,
}

/// Great-circle distance in km.
fn distance_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (la1, lo1, la2, lo2) = (a.0.to_radians(), a.1.to_radians(), b.0.to_radians(), b.1.to_radians());
    let h = ((la2 - la1) / 2.0).sin().powi(2) + la1.cos() * la2.cos() * ((lo2 - lo1) / 2.0).sin().powi(2);
    2.0 * 6371.0 * h.sqrt().min(1.0).asin()
}

/// Splits shots sorted by time into events; returns the index each event starts at
/// (the first is 0; empty for no shots).
pub fn cluster(shots: &[Shot], rule: &Rule) -> Vec<usize> {
    if shots.is_empty() {
        return Vec::new();
    }
    // Whether the places known on either side of the pause before shot `i` (the nearest
    // shot with GPS within a session gap of it; not every shot has one) are far apart.
    let n = shots.len();
    let mut last_known = vec![None; n];
    let mut known = None;
    for (i, s) in shots.iter().enumerate() {
        if s.place.is_some() {
            known = Some(i);
        }
        last_known[i] = known;
    }
    let mut next_known = vec![None; n];
    known = None;
    for i in (0..n).rev() {
        if shots[i].place.is_some() {
            known = Some(i);
        }
        next_known[i] = known;
    }
    let far = |i: usize| {
        let before = last_known[i - 1].filter(|&j| shots[i - 1].t - shots[j].t <= rule.session_gap);
        let after = next_known[i].filter(|&k| shots[k].t - shots[i].t <= rule.session_gap);
        match (before.and_then(|j| shots[j].place), after.and_then(|k| shots[k].place)) {
            (Some(a), Some(b)) => distance_km(a, b) >= rule.place_km,
            _ => false,
        }
    };
    // Sessions, by their first index.
    let mut sessions: Vec<usize> = vec![0];
    for i in 1..shots.len() {
        let gap = shots[i].t - shots[i - 1].t;
        if gap > rule.session_gap || (gap >= rule.place_gap && far(i)) {
            sessions.push(i);
        }
    }
    sessions.push(shots.len());
    let mut starts = vec![0];
    let mut event_start = 0;
    for w in sessions.windows(3) {
        let (prev_end, next_start, next_end) = (w[1] - 1, w[1], w[2] - 1);
        let gap = shots[next_start].t - shots[prev_end].t;
        // The event's span over its last `recent` seconds.
        let since = shots[prev_end].t - rule.recent;
        let first_recent = (event_start..=prev_end).find(|&k| shots[k].t >= since).unwrap_or(prev_end);
        let recent_span = shots[prev_end].t - shots[first_recent].t;
        let next_span = shots[next_end].t - shots[next_start].t;
        // Somewhere else the same day is another outing; a trip moves on overnight.
        let moved = gap < rule.place_night && far(next_start);
        let join = !moved && gap <= rule.max_join_gap && gap as f64 <= rule.factor * recent_span.max(next_span) as f64;
        if !join {
            starts.push(next_start);
            event_start = next_start;
        }
    }
    starts
}

// ---- recomputation ------------------------------------------------------------------

/// What one recomputation did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recomputed {
    pub events: usize,
    pub created: usize,
    pub deleted: usize,
    /// Media rows whose event changed (the only ones written).
    pub moved: usize,
}

/// Recomputes the events if marked dirty (in one write transaction; another process
/// may be doing the same). None when nothing was to do.
pub(crate) fn refresh(conn: &mut Connection) -> Result<Option<Recomputed>> {
    if !is_dirty(conn)? {
        return Ok(None);
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if !is_dirty(&tx)? {
        return Ok(None);
    }
    let t0 = std::time::Instant::now();
    let done = recompute(&tx, &Rule::default())?;
    tx.execute("DELETE FROM settings WHERE key = ?1", [DIRTY_KEY])?;
    tx.commit()?;
    tracing::debug!(ms = t0.elapsed().as_millis() as u64, ?done, "events recomputed");
    Ok(Some(done))
}

fn recompute(conn: &Connection, rule: &Rule) -> Result<Recomputed> {
    type Row = (i64, i64, Option<f64>, Option<f64>, Option<EventId>);
    let rows: Vec<Row> = {
        let mut stmt = conn.prepare_cached(
            "SELECT id, taken_at, latitude, longitude, event_id FROM media
             WHERE presence != ?1 AND live_of IS NULL ORDER BY taken_at, id",
        )?;
        let rows =
            stmt.query_map([Presence::Deleted], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?;
        rows.collect::<std::result::Result<_, _>>()?
    };
    let shots: Vec<Shot> = rows
        .iter()
        .map(|&(_, t, la, lo, _)| Shot {
            t,
            place: match (la, lo) {
                (Some(la), Some(lo)) if la.is_finite() && lo.is_finite() => Some((la, lo)),
                _ => None,
            },
        })
        .collect();
    let starts = cluster(&shots, rule);
    let ranges: Vec<std::ops::Range<usize>> =
        starts.iter().enumerate().map(|(k, &s)| s..starts.get(k + 1).copied().unwrap_or(rows.len())).collect();

    // The old events: their members (all rows, including ones that just left) and names.
    let mut old_count: HashMap<EventId, usize> = HashMap::new();
    {
        let mut stmt =
            conn.prepare_cached("SELECT event_id, COUNT(*) FROM media WHERE event_id IS NOT NULL GROUP BY event_id")?;
        for r in stmt.query_map([], |r| Ok((r.get::<_, EventId>(0)?, r.get::<_, i64>(1)?)))? {
            let (e, n) = r?;
            old_count.insert(e, n as usize);
        }
    }
    type OldEvent = (i64, i64, Option<String>);
    let mut old: HashMap<EventId, OldEvent> = HashMap::new();
    {
        let mut stmt = conn.prepare_cached("SELECT id, start_at, end_at, name FROM events")?;
        for r in stmt.query_map([], |r| Ok((r.get::<_, EventId>(0)?, (r.get(1)?, r.get(2)?, r.get(3)?))))? {
            let (id, e) = r?;
            old.insert(id, e);
        }
    }

    // Each new cluster takes the old event it shares most members with (largest
    // overlaps first, each old event once).
    let mut overlaps: Vec<(usize, usize, EventId)> = Vec::new();
    for (k, range) in ranges.iter().enumerate() {
        let mut shared: HashMap<EventId, usize> = HashMap::new();
        for row in &rows[range.clone()] {
            if let Some(e) = row.4 {
                if old.contains_key(&e) {
                    *shared.entry(e).or_default() += 1;
                }
            }
        }
        overlaps.extend(shared.into_iter().map(|(e, n)| (n, k, e)));
    }
    overlaps.sort_by(|a, b| b.0.cmp(&a.0).then(a.2.cmp(&b.2)).then(a.1.cmp(&b.1)));
    let mut matched: Vec<Option<(EventId, usize)>> = vec![None; ranges.len()];
    let mut taken: std::collections::HashSet<EventId> = std::collections::HashSet::new();
    for (n, k, e) in overlaps {
        if matched[k].is_none() && !taken.contains(&e) {
            matched[k] = Some((e, n));
            taken.insert(e);
        }
    }

    let mut done = Recomputed { events: ranges.len(), ..Default::default() };
    let mut ids: Vec<EventId> = Vec::with_capacity(ranges.len());
    for (k, range) in ranges.iter().enumerate() {
        let (start_at, end_at) = (rows[range.start].1, rows[range.end - 1].1);
        match matched[k] {
            Some((e, shared)) => {
                let (s0, e0, name) = old.get(&e).cloned().unwrap_or((0, 0, None));
                // A name stays while most of the named event's members remain.
                let keep_name = name.is_some() && shared * 2 > old_count.get(&e).copied().unwrap_or(0);
                let name = if keep_name { name } else { None };
                let name_changed = old.get(&e).is_some_and(|o| o.2 != name);
                if s0 != start_at || e0 != end_at || name_changed {
                    conn.prepare_cached("UPDATE events SET start_at = ?2, end_at = ?3, name = ?4 WHERE id = ?1")?
                        .execute(params![e, start_at, end_at, name])?;
                }
                ids.push(e);
            }
            None => {
                conn.prepare_cached("INSERT INTO events (start_at, end_at) VALUES (?1, ?2)")?
                    .execute(params![start_at, end_at])?;
                ids.push(conn.last_insert_rowid());
                done.created += 1;
            }
        }
    }
    {
        let mut set = conn.prepare_cached("UPDATE media SET event_id = ?2 WHERE id = ?1")?;
        for (range, &e) in ranges.iter().zip(&ids) {
            for row in &rows[range.clone()] {
                if row.4 != Some(e) {
                    set.execute(params![row.0, e])?;
                    done.moved += 1;
                }
            }
        }
    }
    // Rows that are no longer shown (gone, or now a Live Photo's movie) leave their event.
    done.moved += conn.execute(
        "UPDATE media SET event_id = NULL WHERE event_id IS NOT NULL AND (presence = ?1 OR live_of IS NOT NULL)",
        [Presence::Deleted],
    )?;
    let kept: std::collections::HashSet<EventId> = ids.iter().copied().collect();
    for e in old.keys().filter(|e| !kept.contains(e)) {
        conn.prepare_cached("DELETE FROM events WHERE id = ?1")?.execute([e])?;
        done.deleted += 1;
    }
    Ok(done)
}

// ---- reading events -----------------------------------------------------------------

/// SQL ordering media best picture first: faces, then scored before unscored, the
/// engine's score (a video's best pick while its own is not set), stills before movies,
/// then larger pictures. `m` is the media row.
pub(crate) const BEST_FIRST: &str = "(COALESCE(m.faces, 0) > 0) DESC,
    (COALESCE(m.score, (SELECT MAX(p.score) FROM picks p WHERE p.media_id = m.id)) IS NULL),
    COALESCE(m.score, (SELECT MAX(p.score) FROM picks p WHERE p.media_id = m.id)) DESC,
    (m.kind = 'photo') DESC, COALESCE(m.width, 0) * COALESCE(m.height, 0) DESC, m.taken_at, m.id";

/// Local (year, month, day) of the first and last shot, as SQLite sees local time.
type LocalDate = (i32, u32, u32);

fn parse_date(s: &str) -> Option<LocalDate> {
    let mut it = s.splitn(3, '-');
    Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?, it.next()?.parse().ok()?))
}

pub(crate) const MONTHS: [&str; 12] =
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

fn month(m: u32) -> &'static str {
    MONTHS.get((m as usize).wrapping_sub(1)).copied().unwrap_or("?")
}

/// "3 Aug 2021", "12–14 Aug 2021", "30 Jul – 2 Aug 2021", "30 Dec 2020 – 2 Jan 2021".
pub fn date_range_name(a: (i32, u32, u32), b: (i32, u32, u32)) -> String {
    let ((y1, m1, d1), (y2, m2, d2)) = (a, b);
    if a == b {
        format!("{d1} {} {y1}", month(m1))
    } else if y1 == y2 && m1 == m2 {
        format!("{d1}–{d2} {} {y1}", month(m1))
    } else if y1 == y2 {
        format!("{d1} {} – {d2} {} {y1}", month(m1), month(m2))
    } else {
        format!("{d1} {} {y1} – {d2} {} {y2}", month(m1), month(m2))
    }
}

/// Events (all, one, or those with items in one album), newest first.
pub(crate) fn list(conn: &Connection, root: Option<RootId>, only: Option<EventId>) -> Result<Vec<Event>> {
    // Fixed filters in the query's text, from the enum's names (no value of a user's).
    let deleted = Presence::Deleted.as_str();
    let mut sql = format!(
        "SELECT e.id, e.name, e.start_at, e.end_at, COUNT(*), SUM(m.kind = 'photo'), SUM(m.kind = 'video'),
           date(e.start_at, 'unixepoch', 'localtime'), date(e.end_at, 'unixepoch', 'localtime')
         FROM events e JOIN media m ON m.event_id = e.id AND m.presence != '{deleted}' AND m.live_of IS NULL",
    );
    let mut args: Vec<i64> = Vec::new();
    let mut clauses = Vec::new();
    let in_root = format!(
        "EXISTS (SELECT 1 FROM media r WHERE r.event_id = e.id AND r.root_id = ? AND r.presence != '{deleted}'
           AND r.live_of IS NULL)"
    );
    if let Some(root) = root {
        clauses.push(in_root.as_str());
        args.push(root);
    }
    if let Some(id) = only {
        clauses.push("e.id = ?");
        args.push(id);
    }
    if !clauses.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&clauses.join(" AND "));
    }
    sql.push_str(" GROUP BY e.id ORDER BY e.start_at DESC, e.id DESC");
    let mut events: Vec<Event> = {
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params_from_iter(args), |r| {
            let name: Option<String> = r.get(1)?;
            let dates = (r.get::<_, Option<String>>(7)?, r.get::<_, Option<String>>(8)?);
            let generated = match (dates.0.as_deref().and_then(parse_date), dates.1.as_deref().and_then(parse_date)) {
                (Some(a), Some(b)) => date_range_name(a, b),
                _ => String::new(),
            };
            Ok(Event {
                id: r.get(0)?,
                named: name.is_some(),
                name: name.unwrap_or(generated),
                start_at: r.get(2)?,
                end_at: r.get(3)?,
                count: r.get(4)?,
                photos: r.get(5)?,
                videos: r.get(6)?,
                cover: None,
            })
        })?;
        rows.collect::<std::result::Result<_, _>>()?
    };
    // Covers: the best of each event, in one pass.
    let mut covers: HashMap<EventId, i64> = HashMap::new();
    {
        let filter = if only.is_some() { " AND m.event_id = ?1" } else { "" };
        let sql = format!(
            "SELECT e, id FROM (SELECT m.event_id AS e, m.id AS id,
                 ROW_NUMBER() OVER (PARTITION BY m.event_id ORDER BY {BEST_FIRST}) AS n
               FROM media m WHERE m.event_id IS NOT NULL AND m.presence != '{deleted}' AND m.live_of IS NULL{filter})
             WHERE n = 1"
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let args: Vec<i64> = only.into_iter().collect();
        for r in stmt.query_map(params_from_iter(args), |r| Ok((r.get::<_, EventId>(0)?, r.get::<_, i64>(1)?)))? {
            let (e, id) = r?;
            covers.insert(e, id);
        }
    }
    let wanted: Vec<i64> = events.iter().filter_map(|e| covers.get(&e.id).copied()).collect();
    let mut items: HashMap<i64, MediaItem> =
        media::items_by_ids(conn, &wanted)?.into_iter().map(|i| (i.id, i)).collect();
    for e in &mut events {
        e.cover = covers.get(&e.id).and_then(|id| items.remove(id));
    }
    Ok(events)
}

#[cfg(test)]
#[path = "events_tests.rs"]
pub(crate) mod tests;
