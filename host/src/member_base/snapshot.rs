//! The member base saved to a file, so a start reads one file instead of
//! every record of the store: at a million members the store's twenty-odd
//! million records took a minute to read and sort; the snapshot is its
//! compact rows as they are in memory.
//!
//! The file is a header (magic, format version, body length, CRC-32 of the
//! body) and a postcard body: the caller's mark of where the store stood
//! when the base was built (compared by the caller; a stale snapshot is
//! rebuilt from the store, which stays the store of record), the brand's
//! time zone the days were taken in, the event kinds the base keeps (read
//! with the mark, without the body: a rebuild keeps them) and the base. Written to a temporary
//! file and renamed, so a crash leaves the old snapshot or the new one. The
//! hash indexes are not saved: they are rebuilt from the rows on reading.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{KeptKinds, MemberBase};
use crate::calendar::BrandCalendar;

const MAGIC: &[u8; 8] = b"CANVASMB";
/// Bumped whenever the base's rows change shape: an older file is rebuilt.
const FORMAT: u32 = 2;
const HEADER: usize = 8 + 4 + 8 + 4;

#[derive(Serialize)]
struct BodyRef<'a, M> {
    mark: &'a M,
    time_zone: &'a str,
    kinds: &'a KeptKinds,
    base: &'a MemberBase,
}

#[derive(Deserialize)]
struct Body<M> {
    mark: M,
    time_zone: String,
    kinds: KeptKinds,
    base: MemberBase,
}

/// Saves `base`, built from the store as `mark` says, to `path`.
pub fn save<M: Serialize>(path: &Path, mark: &M, base: &MemberBase) -> anyhow::Result<()> {
    let time_zone = base.calendar.tz().name();
    let body = postcard::to_stdvec(&BodyRef { mark, time_zone, kinds: &base.kept, base })
        .context("encoding the member base")?;
    let mut file = Vec::with_capacity(HEADER);
    file.extend_from_slice(MAGIC);
    file.extend_from_slice(&FORMAT.to_le_bytes());
    file.extend_from_slice(&(body.len() as u64).to_le_bytes());
    file.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
    let partial = path.with_extension("partial");
    let write = || -> std::io::Result<()> {
        let mut out = std::fs::File::create(&partial)?;
        out.write_all(&file)?;
        out.write_all(&body)?;
        out.sync_all()?;
        std::fs::rename(&partial, path)
    };
    write().with_context(|| format!("writing the member base's snapshot {}", path.display()))
}

/// The mark the snapshot at `path` was saved with and the event kinds its
/// base keeps, from its first bytes only (the body is not read or
/// checked); `None`: no snapshot there, or one of another format.
pub fn saved_mark<M: DeserializeOwned>(path: &Path) -> Option<(M, KeptKinds)> {
    use std::io::Read;
    let mut head = Vec::new();
    std::fs::File::open(path).ok()?.take((HEADER + 65_536) as u64).read_to_end(&mut head).ok()?;
    if head.len() < HEADER || &head[..8] != MAGIC || head[8..12] != FORMAT.to_le_bytes() {
        return None;
    }
    let (mark, _time_zone, kinds) = postcard::take_from_bytes::<(M, String, KeptKinds)>(&head[HEADER..]).ok()?.0;
    Some((mark, kinds))
}

/// The base saved at `path` and the mark it was saved with; `None` when
/// there is no snapshot, or one of another format or in another time zone
/// than `calendar`'s (both mean: build it again). A file that is there but
/// cut short or corrupt is an error naming it.
pub fn load<M: DeserializeOwned>(path: &Path, calendar: BrandCalendar) -> anyhow::Result<Option<(M, MemberBase)>> {
    let file = match std::fs::read(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading the member base's snapshot {}", path.display())),
    };
    let bad = |why: String| anyhow::anyhow!("the member base's snapshot {} is unusable: {why}", path.display());
    if file.len() < HEADER || &file[..8] != MAGIC {
        return Err(bad("not a snapshot (no header)".into()));
    }
    let word = |at: usize| u32::from_le_bytes(file[at..at + 4].try_into().expect("4 bytes"));
    if word(8) != FORMAT {
        return Ok(None);
    }
    let length = u64::from_le_bytes(file[12..20].try_into().expect("8 bytes"));
    let body = &file[HEADER..];
    if body.len() as u64 != length {
        return Err(bad(format!("{} bytes of a {length}-byte body", body.len())));
    }
    if crc32fast::hash(body) != word(20) {
        return Err(bad("its checksum does not match".into()));
    }
    let body: Body<M> = postcard::from_bytes(body).map_err(|e| bad(format!("undecodable: {e}")))?;
    if body.time_zone != calendar.tz().name() {
        return Ok(None);
    }
    let mut base = body.base;
    base.calendar = calendar;
    base.kept = body.kinds;
    base.reindex();
    Ok(Some((body.mark, base)))
}

/// Vectors read back at their full length at once. serde's own reading
/// grows a vector from a capped guess: at a million members the copies of
/// the largest ones, and the fresh pages the kernel zeroes for each, were
/// a third of reading the snapshot.
pub(super) mod exact {
    use std::collections::HashMap;
    use std::fmt;
    use std::hash::{BuildHasher, Hash};
    use std::marker::PhantomData;

    use serde::de::{SeqAccess, Visitor};
    use serde::{Deserialize, Deserializer};

    /// Past this many elements a vector grows as it is read (a body that
    /// passed its checksum is ours; this only bounds a stray length).
    const AT_ONCE_AT_MOST: usize = 1 << 27;

    /// A vector, its capacity its length.
    pub fn vec<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
        struct Elements<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for Elements<T> {
            type Value = Vec<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a sequence")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(AT_ONCE_AT_MOST));
                while let Some(element) = seq.next_element()? {
                    out.push(element);
                }
                Ok(out)
            }
        }
        d.deserialize_seq(Elements(PhantomData))
    }

    /// A map of vectors, each read by [`vec`].
    pub fn map_of_vecs<'de, D, K, T, S>(d: D) -> Result<HashMap<K, Vec<T>, S>, D::Error>
    where
        D: Deserializer<'de>,
        K: Deserialize<'de> + Eq + Hash,
        T: Deserialize<'de>,
        S: BuildHasher + Default,
    {
        struct Exact<T>(Vec<T>);
        impl<'de, T: Deserialize<'de>> Deserialize<'de> for Exact<T> {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                vec(d).map(Exact)
            }
        }
        let map: HashMap<K, Exact<T>, S> = Deserialize::deserialize(d)?;
        Ok(map.into_iter().map(|(k, v)| (k, v.0)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{bare_member, DataSet, Event, Millis, Order, OrderChannel};

    fn base() -> MemberBase {
        MemberBase::build(BrandCalendar::default(), data())
    }

    /// Two members (one in a zone of their own), an order, a page view and a coupon.
    fn data() -> DataSet {
        let event = |id: &str, m: &str, kind: &str, at| Event {
            id: id.into(),
            member_id: m.into(),
            kind: kind.into(),
            at,
            attrs: r#"{"sku":"A"}"#.into(),
        };
        let mut zoned = bare_member("B");
        zoned.tz = Some("Europe/London".into());
        let order = Order {
            id: "O1".into(),
            member_id: "A".into(),
            placed_at: 5,
            amount: 100,
            channel: OrderChannel::Online,
            category: "outerwear".into(),
            sku: "A".into(),
        };
        DataSet {
            members: vec![bare_member("A"), zoned],
            orders: vec![order],
            events: vec![event("e1", "A", "product_view", 10), event("e2", "B", "coupon_issued", 20)],
            ..Default::default()
        }
    }

    #[test]
    fn a_saved_base_reads_back_as_it_was_with_its_mark_and_indexes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("base.snapshot");
        let saved = base();
        save(&path, &("mark", 7u64), &saved).unwrap();

        let (mark, read): ((String, u64), MemberBase) = load(&path, BrandCalendar::default()).unwrap().unwrap();
        assert_eq!(mark, ("mark".to_string(), 7));
        assert_eq!(saved_mark::<(String, u64)>(&path), Some((mark, KeptKinds::Every)));
        let (a, b) = (read.index_of("A").unwrap(), read.index_of("B").unwrap());
        assert_eq!(read.time_zone_of("B"), Some(chrono_tz::Europe::London));
        assert_eq!(read.events_as_of(a, 100).iter().next().unwrap(), saved.events_as_of(a, 100).iter().next().unwrap());
        assert_eq!(read.orders_as_of(a, 100).len(), 1);
        assert_eq!(read.events_by_kind["coupon_issued"], [(20, b)]);
        // Interning goes on where it left off: a known detail is not stored twice.
        let mut read = read;
        let details = read.event_text.details_len();
        read.add_events([Event {
            id: "e3".into(),
            member_id: "A".into(),
            kind: "product_view".into(),
            at: 30,
            attrs: r#"{"sku":"A"}"#.into(),
        }]);
        assert_eq!(read.event_text.details_len(), details);
    }

    /// A base for runs leaves out the kinds it does not keep, as built and
    /// as events are added, and its snapshot says which it keeps.
    #[test]
    fn a_base_keeping_some_kinds_leaves_the_others_out_and_its_snapshot_says_which() {
        let kept = KeptKinds::host_and(["coupon_issued"]);
        let data = data();
        let events = data.events.clone();
        let mut some = MemberBase::build_with(BrandCalendar::default(), data, kept.clone(), |reader| {
            let mut part = crate::member_base::EventPart::default();
            events.iter().for_each(|e| reader.add(&mut part, e.as_ref()));
            Ok(vec![part])
        })
        .unwrap();
        assert!(!some.events_by_kind.contains_key("product_view"));
        assert_eq!(some.events_by_kind["coupon_issued"].len(), 1);
        let a = some.index_of("A").unwrap();
        let view =
            Event { id: "e4".into(), member_id: "A".into(), kind: "product_view".into(), at: 40, attrs: "{}".into() };
        some.add_events([view]);
        assert_eq!(some.events_as_of(a, Millis::MAX).iter().count(), 0, "no product view kept");

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("base.snapshot");
        save(&path, &1u64, &some).unwrap();
        assert_eq!(saved_mark::<u64>(&path), Some((1, kept.clone())));
        let (_, read) = load::<u64>(&path, BrandCalendar::default()).unwrap().unwrap();
        assert_eq!(read.kept(), &kept);
    }

    #[test]
    fn a_damaged_snapshot_is_an_error_naming_it_and_another_time_zone_or_none_is_none() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("base.snapshot");
        assert!(load::<u64>(&path, BrandCalendar::default()).unwrap().is_none());
        save(&path, &1u64, &base()).unwrap();
        let london = BrandCalendar::new(chrono_tz::Europe::London);
        assert!(load::<u64>(&path, london).unwrap().is_none(), "days were taken in another zone");

        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0xFF;
        std::fs::write(&path, &bytes).unwrap();
        let error = load::<u64>(&path, BrandCalendar::default()).err().expect("an error").to_string();
        assert!(error.contains("base.snapshot") && error.contains("checksum"), "{error}");
        std::fs::write(&path, &bytes[..100]).unwrap();
        let error = load::<u64>(&path, BrandCalendar::default()).err().expect("an error").to_string();
        assert!(error.contains("bytes of a"), "{error}");
    }
}
