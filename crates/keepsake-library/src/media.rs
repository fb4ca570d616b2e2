//! Reading the index for the grid and the detail panel.

use std::path::PathBuf;

use std::sync::LazyLock;

use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Row};

use crate::db::Presence;
use crate::error::{LibraryError, Result};
use crate::model::{
    Cover, CoverKind, DateSource, Frame, MediaDetail, MediaId, MediaItem, MediaKind, MediaQuery, MediaState,
    MotionKind, SortOrder,
};

/// An item's columns, for every query that makes [`MediaItem`]s. The presence of its
/// Live Photo movie is a fixed filter in the text (from the enum's name), so the
/// queries' own parameters keep their numbers.
static ITEM_COLUMNS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "m.id, m.root_id, m.path, m.name, m.kind, m.state, m.presence, m.error, m.size,
    m.duration, m.width, m.height, m.taken_at, m.cover_version,
    (SELECT group_concat(rank) FROM picks p WHERE p.media_id = m.id),
    COALESCE((SELECT kind FROM cover_overrides c WHERE c.media_id = m.id), 'auto'),
    m.rotation, m.codec,
    CASE WHEN EXISTS (SELECT 1 FROM media l WHERE l.live_of = m.id AND l.presence != '{}') THEN 'live'
         WHEN m.motion_length IS NOT NULL THEN 'embedded' END",
        Presence::Deleted.as_str()
    )
});

/// `media.state`: what a row's analysis (a video's) or decoding (a photo's) came to.
/// [`MediaState::Missing`] is not stored (it is `media.presence`'s), so writing it is an
/// error; a name this build does not know is an error when read, never taken for one.
impl rusqlite::types::ToSql for MediaState {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(match self {
            MediaState::Pending => "pending",
            MediaState::Ready => "ready",
            MediaState::Failed => "failed",
            MediaState::Missing => {
                return Err(rusqlite::Error::ToSqlConversionFailure(
                    "`missing` is a presence, not a media state".into(),
                ))
            }
        }
        .into())
    }
}

impl rusqlite::types::FromSql for MediaState {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        match value.as_str()? {
            "pending" => Ok(MediaState::Pending),
            "ready" => Ok(MediaState::Ready),
            "failed" => Ok(MediaState::Failed),
            other => Err(rusqlite::types::FromSqlError::Other(format!("unknown media state {other:?}").into())),
        }
    }
}

impl MediaState {
    /// The state of a file just indexed or changed: a video waits for its analysis, a
    /// photo is ready (its grid copy is made on first view).
    pub(crate) fn first(kind: MediaKind) -> MediaState {
        match kind {
            MediaKind::Video => MediaState::Pending,
            MediaKind::Photo => MediaState::Ready,
        }
    }
}

/// Columns after [`ITEM_COLUMNS`] in [`detail`].
const ITEM_COLUMN_COUNT: usize = 19;

fn item_from_row(r: &Row) -> rusqlite::Result<MediaItem> {
    let state = match r.get::<_, Presence>(6)? {
        Presence::Missing => MediaState::Missing,
        _ => r.get::<_, MediaState>(5)?,
    };
    let ranks: Option<String> = r.get(14)?;
    let mut frame_ranks: Vec<u32> = ranks.unwrap_or_default().split(',').filter_map(|s| s.parse().ok()).collect();
    frame_ranks.sort_unstable();
    Ok(MediaItem {
        id: r.get(0)?,
        root_id: r.get(1)?,
        path: PathBuf::from(r.get::<_, String>(2)?),
        name: r.get(3)?,
        kind: MediaKind::parse(&r.get::<_, String>(4)?),
        state,
        error: r.get(7)?,
        size: r.get(8)?,
        duration: r.get(9)?,
        width: r.get(10)?,
        height: r.get(11)?,
        taken_at: r.get(12)?,
        cover_version: r.get(13)?,
        frame_ranks,
        cover_kind: match r.get::<_, String>(15)?.as_str() {
            "pick" => CoverKind::Pick,
            "time" => CoverKind::Time,
            "image" => CoverKind::Image,
            _ => CoverKind::Auto,
        },
        motion: match r.get::<_, Option<String>>(18)?.as_deref() {
            Some("live") => Some(MotionKind::Live),
            Some("embedded") => Some(MotionKind::Embedded),
            _ => None,
        },
    })
}

/// WHERE clause and parameters for a query (deleted media are never listed).
pub(crate) fn filter(q: &MediaQuery) -> (String, Vec<rusqlite::types::Value>) {
    use rusqlite::types::Value;
    // A Live Photo's movie is part of its still, not a tile of its own.
    let mut sql = String::from(" WHERE m.presence != ? AND m.live_of IS NULL");
    let mut args: Vec<Value> = vec![Value::Text(Presence::Deleted.as_str().into())];
    if let Some(root) = q.root {
        sql.push_str(" AND m.root_id = ?");
        args.push(Value::Integer(root));
    }
    if let Some(event) = q.event {
        sql.push_str(" AND m.event_id = ?");
        args.push(Value::Integer(event));
    }
    if let Some(kind) = q.kind {
        sql.push_str(" AND m.kind = ?");
        args.push(Value::Text(kind.as_str().into()));
    }
    if let Some(s) = q.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let escaped = s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        sql.push_str(" AND m.path LIKE ? ESCAPE '\\'");
        args.push(Value::Text(format!("%{escaped}%")));
    }
    (sql, args)
}

pub(crate) fn list(conn: &Connection, q: &MediaQuery) -> Result<Vec<MediaItem>> {
    let (where_sql, args) = filter(q);
    let order = match q.sort {
        SortOrder::TakenDesc => "m.taken_at DESC, m.id DESC",
        SortOrder::TakenAsc => "m.taken_at ASC, m.id ASC",
        SortOrder::Name => "m.name COLLATE NOCASE ASC, m.id ASC",
    };
    let limit = if q.limit == 0 { -1 } else { q.limit as i64 };
    let sql =
        format!("SELECT {} FROM media m{where_sql} ORDER BY {order} LIMIT {limit} OFFSET {}", *ITEM_COLUMNS, q.offset);
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params_from_iter(args), item_from_row)?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

/// Items by id, in the order asked (ids not found, or deleted, are left out).
pub(crate) fn items_by_ids(conn: &Connection, ids: &[MediaId]) -> Result<Vec<MediaItem>> {
    let mut stmt =
        conn.prepare_cached(&format!("SELECT {} FROM media m WHERE m.id = ?1 AND m.presence != ?2", *ITEM_COLUMNS))?;
    let mut items = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(item) = stmt.query_row(params![id, Presence::Deleted], item_from_row).optional()? {
            items.push(item);
        }
    }
    Ok(items)
}

pub(crate) fn count(conn: &Connection, q: &MediaQuery) -> Result<u64> {
    let (where_sql, args) = filter(q);
    Ok(conn.query_row(&format!("SELECT COUNT(*) FROM media m{where_sql}"), params_from_iter(args), |r| r.get(0))?)
}

pub(crate) fn id_by_path(conn: &Connection, path: &str) -> Result<Option<MediaId>> {
    Ok(conn
        .query_row("SELECT id FROM media WHERE path = ?1 AND presence != ?2", params![path, Presence::Deleted], |r| {
            r.get(0)
        })
        .optional()?)
}

pub(crate) fn frames(conn: &Connection, data_dir: &std::path::Path, id: MediaId) -> Result<Vec<Frame>> {
    let mut stmt = conn.prepare(
        "SELECT rank, time, score, image, width, height, reasons FROM picks WHERE media_id = ?1 ORDER BY rank",
    )?;
    let rows = stmt.query_map([id], |r| {
        let reasons: String = r.get(6)?;
        Ok(Frame {
            rank: r.get(0)?,
            time: r.get(1)?,
            score: r.get(2)?,
            path: data_dir.join(r.get::<_, String>(3)?),
            width: r.get(4)?,
            height: r.get(5)?,
            // `{}` (the column's default) or reasons from an older engine: what is there.
            reasons: serde_json::from_str(&reasons).unwrap_or_default(),
        })
    })?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

/// The cover in effect: the override if any, else the first pick.
pub(crate) fn cover(
    conn: &Connection,
    data_dir: &std::path::Path,
    id: MediaId,
    version: i64,
    frames: &[Frame],
) -> Result<Cover> {
    type Override = (String, Option<u32>, Option<f64>, Option<String>);
    let over: Option<Override> = conn
        .query_row("SELECT kind, pick_rank, time, image FROM cover_overrides WHERE media_id = ?1", [id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    let pick = |rank: u32, kind: CoverKind| {
        let f = frames.iter().find(|f| f.rank == rank);
        Cover { kind, rank: Some(rank), time: f.map(|f| f.time), path: f.map(|f| f.path.clone()), version }
    };
    Ok(match over {
        Some((k, rank, time, image)) if k == "pick" => {
            let _ = (time, image);
            pick(rank.unwrap_or(1), CoverKind::Pick)
        }
        Some((k, _, time, image)) => Cover {
            kind: if k == "time" { CoverKind::Time } else { CoverKind::Image },
            rank: None,
            time,
            path: image.map(|i| data_dir.join(i)),
            version,
        },
        None => {
            if frames.is_empty() {
                Cover { kind: CoverKind::Auto, rank: None, time: None, path: None, version }
            } else {
                pick(frames[0].rank, CoverKind::Auto)
            }
        }
    })
}

pub(crate) fn detail(conn: &Connection, data_dir: &std::path::Path, id: MediaId) -> Result<MediaDetail> {
    let (item, rotation, codec, picture, motion_note, motion_path, taken_source) = conn
        .query_row(
            &format!(
                "SELECT {}, m.picture, m.motion_note,
                   (SELECT l.path FROM media l WHERE l.live_of = m.id AND l.presence != ?2 ORDER BY l.id LIMIT 1),
                   m.taken_source
                 FROM media m WHERE m.id = ?1 AND m.presence != ?2",
                *ITEM_COLUMNS
            ),
            params![id, Presence::Deleted],
            |r| {
                Ok((
                    item_from_row(r)?,
                    r.get::<_, Option<i32>>(16)?,
                    r.get::<_, Option<String>>(17)?,
                    r.get::<_, Option<String>>(ITEM_COLUMN_COUNT)?,
                    r.get::<_, Option<String>>(ITEM_COLUMN_COUNT + 1)?,
                    r.get::<_, Option<String>>(ITEM_COLUMN_COUNT + 2)?,
                    r.get::<_, String>(ITEM_COLUMN_COUNT + 3)?,
                ))
            },
        )
        .optional()?
        .ok_or(LibraryError::NoSuchMedia(id))?;
    let frames = frames(conn, data_dir, id)?;
    let curve: Option<String> =
        conn.query_row("SELECT points FROM curves WHERE media_id = ?1", [id], |r| r.get(0)).optional()?;
    let cover = cover(conn, data_dir, id, item.cover_version, &frames)?;
    Ok(MediaDetail {
        item,
        rotation,
        codec,
        taken_source: DateSource::from_stored(&taken_source),
        picture: picture.and_then(|p| serde_json::from_str(&p).ok()).unwrap_or_default(),
        motion_note,
        motion_path: motion_path.map(PathBuf::from),
        frames,
        curve: curve.and_then(|c| serde_json::from_str(&c).ok()).unwrap_or_default(),
        cover,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `media.state` is stored by name; an unknown name read back is an error (not
    /// `pending`), and `missing`, which is a presence, is never written as a state.
    #[test]
    fn media_states_are_stored_by_name() {
        let conn = Connection::open_in_memory().unwrap();
        for s in [MediaState::Pending, MediaState::Ready, MediaState::Failed] {
            let back: MediaState = conn.query_row("SELECT ?1", [s], |r| r.get(0)).unwrap();
            assert_eq!(back, s);
        }
        assert!(conn.query_row("SELECT 'analysing'", [], |r| r.get::<_, MediaState>(0)).is_err());
        assert!(conn.query_row("SELECT ?1", [MediaState::Missing], |r| r.get::<_, String>(0)).is_err());
        assert_eq!(MediaState::first(MediaKind::Video), MediaState::Pending);
        assert_eq!(MediaState::first(MediaKind::Photo), MediaState::Ready);
    }
}
