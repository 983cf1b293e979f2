//! The order the governor decides a run instant's proposals in: member by
//! member, each member's by strategy rank — so the first proposal of a
//! member is the one arbitration lets through, and the rest name it.

use super::policy::GovernancePolicy;
use crate::model::Proposal;

/// Member by member (ids compared as strings), each member's proposals by
/// strategy rank, then strategy id and step.
///
/// A busy day has hundreds of thousands of proposals of a few hundred bytes
/// each, so they are not gathered and then sorted in place: a small index of
/// places (batch, position) is sorted, and each proposal is then taken
/// once, out of its batch, as the governor decides it. That works because each batch is
/// put in order first (plugins return touches in any order; most in the
/// order given) and the sort is stable, so the index takes a batch's
/// proposals front to back. A strategy's batches are of ascending members,
/// so the sort mostly merges one run per strategy. A proposal's rank is
/// looked up once, not at every comparison.
pub(super) fn in_arbitration_order(
    policy: &GovernancePolicy,
    mut batches: Vec<Vec<Proposal>>,
) -> impl ExactSizeIterator<Item = Proposal> + use<> {
    let rank = |p: &Proposal| policy.rank(&p.strategy).0;
    for batch in &mut batches {
        if !batch.is_sorted_by(|a, b| key(a, rank(a)) <= key(b, rank(b))) {
            batch.sort_by(|a, b| key(a, rank(a)).cmp(&key(b, rank(b))));
        }
    }
    let mut order: Vec<Placed> = Vec::with_capacity(batches.iter().map(Vec::len).sum());
    for (b, batch) in batches.iter().enumerate() {
        order.extend(batch.iter().enumerate().map(|(i, d)| Placed { rank: rank(d), batch: b, index: i }));
    }
    let at = |p: &Placed| &batches[p.batch][p.index];
    order.sort_by(|x, y| key(at(x), x.rank).cmp(&key(at(y), y.rank)));
    let mut batches: Vec<std::vec::IntoIter<Proposal>> = batches.into_iter().map(Vec::into_iter).collect();
    order.into_iter().map(move |p| batches[p.batch].next().expect("each batch is taken in the order it holds"))
}

/// What a proposal is put in order by, its strategy's `rank` given.
fn key(d: &Proposal, rank: usize) -> (&str, usize, &str, &str) {
    (&d.member_id, rank, &d.strategy, &d.step)
}

/// A proposal's place in its batch, with its strategy's rank.
struct Placed {
    rank: usize,
    batch: usize,
    index: usize,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::parse_instant;
    use crate::governance::tests::{proposal, TEN};

    #[test]
    fn proposals_are_put_member_by_member_in_rank_order_whatever_order_they_came_in() {
        let at = parse_instant(TEN).unwrap();
        let strategies = ["dormant-recall", "birthday-tiered", "group-buy-referral"];
        let mut proposals = Vec::new();
        // Members interleaved and strategies out of rank, in batches that
        // each mix strategies and are out of order themselves.
        for i in 0..7 {
            for s in strategies {
                proposals.push(proposal(s, &format!("M{}", (i * 3) % 7), at));
            }
        }
        proposals.reverse();
        let batches: Vec<Vec<Proposal>> = proposals.chunks(5).map(<[Proposal]>::to_vec).collect();
        let policy = GovernancePolicy::default();
        let ordered: Vec<(String, String)> =
            in_arbitration_order(&policy, batches).map(|d| (d.member_id, d.strategy)).collect();
        let mut expected = ordered.clone();
        expected.sort_by_key(|(member, strategy)| (member.clone(), policy.rank(strategy).0, strategy.clone()));
        assert_eq!(ordered, expected);
        assert_eq!(ordered.len(), 21);
        assert_eq!(ordered.iter().filter(|(member, _)| member == "M3").count(), 3);
    }

    /// Recorded decisions were made in the order of the ids' first 16 bytes
    /// (big-endian, zero-padded), whole ids compared only on a tie. Ids
    /// compared as strings must give the very same order, or a run would
    /// decide differently.
    #[test]
    fn ids_compared_as_strings_are_in_the_order_of_the_sixteen_byte_prefix_sort() {
        let at = parse_instant(TEN).unwrap();
        let members = [
            "brand-member-0000-b",
            "brand-member-0000-a",
            "brand-member-0000",
            "brand-member-000",
            "brand-member-0001",
            "brand-member-000\u{0}",
            "brand-member-000\u{0}x",
            "brand-member-000é",
            "b",
            "",
            "\u{0}",
            "M000042",
            "M00004",
            "Z",
            "a-very-long-member-id-far-beyond-sixteen-bytes-1",
            "a-very-long-member-id-far-beyond-sixteen-bytes-0",
        ];
        let strategies = ["group-buy-referral", "dormant-recall", "birthday-tiered", "not-listed"];
        let proposals: Vec<Proposal> =
            members.iter().flat_map(|m| strategies.map(|s| proposal(s, m, at))).rev().collect();
        let policy = GovernancePolicy::default();
        let ordered: Vec<Proposal> =
            in_arbitration_order(&policy, proposals.chunks(3).map(<[Proposal]>::to_vec).collect()).collect();
        let ordered: Vec<(&str, &str)> = ordered.iter().map(|d| (d.member_id.as_str(), d.strategy.as_str())).collect();

        let mut by_prefix = proposals.clone();
        by_prefix.sort_by(|a, b| {
            let (rank_a, rank_b) = (policy.rank(&a.strategy).0, policy.rank(&b.strategy).0);
            id_prefix(&a.member_id).cmp(&id_prefix(&b.member_id)).then_with(|| key(a, rank_a).cmp(&key(b, rank_b)))
        });
        let by_prefix: Vec<(&str, &str)> =
            by_prefix.iter().map(|d| (d.member_id.as_str(), d.strategy.as_str())).collect();
        assert_eq!(ordered, by_prefix);
        assert_eq!(ordered[0], ("", "birthday-tiered"));
        assert_eq!(ordered.len(), members.len() * strategies.len());
    }

    /// What that order compared first: an id's first 16 bytes.
    fn id_prefix(id: &str) -> u128 {
        let mut bytes = [0u8; 16];
        let n = id.len().min(16);
        bytes[..n].copy_from_slice(&id.as_bytes()[..n]);
        u128::from_be_bytes(bytes)
    }
}
