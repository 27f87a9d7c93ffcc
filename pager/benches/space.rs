//! The fault decision and mmap + munmap at 10, 1,000 and 65,530 VMAs.
//!
//! Targets (issue 3): a fault decision under 200 ns at 65,530 VMAs, and
//! 65,530 VMAs no more than 2x slower than 1,000. Run with
//! `cargo bench -p pager --bench space`.

use std::{hint::black_box, time::Duration};

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use libipc::{
    pager::MapKind,
    types::{Access, PAGE_SIZE, Prot},
};
use pager::{
    policy::OnePage,
    rlimit::Rlimits,
    settings::Settings,
    space::{AddressSpace, FaultDecision, MmapArgs},
};

const SIZES: [usize; 3] = [10, 1_000, 65_530];
const FIRST: u64 = 0x1000_0000;
/// One page mapped, one left free: every mapping is its own VMA.
const STRIDE: u64 = 2 * PAGE_SIZE;

/// A space holding `n` one-page VMAs. max_map_count is raised a little
/// above 65,530 so the mmap benchmark can add one more at that size.
fn space_with(n: usize) -> AddressSpace {
    let settings = Settings {
        max_map_count: 65_536,
        ..Settings::default()
    };
    let mut space = AddressSpace::new(&settings, Rlimits::default(), 0x7f00_0000_0000);
    let flags = MapKind::PRIVATE.union(MapKind::ANONYMOUS).union(MapKind::FIXED);
    for i in 0..n as u64 {
        let args = MmapArgs {
            addr: FIRST + i * STRIDE,
            len: PAGE_SIZE,
            prot: Prot::RW,
            flags,
            file: None,
        };
        space.mmap(args).expect("room for the VMA");
    }
    assert_eq!(space.vmas().len(), n);
    space
}

/// Addresses spread over all VMAs in a scrambled order (so lookups do not
/// just walk one cache-hot path).
fn targets(n: usize) -> Vec<u64> {
    const COUNT: u64 = 4096;
    const MIX: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..COUNT)
        .map(|i| FIRST + (i.wrapping_mul(MIX) >> 17) % n as u64 * STRIDE + 0x123)
        .collect()
}

/// Two access patterns: `scattered` faults on a different, pseudo-random
/// VMA each time (every lookup runs cold through the tree: memory latency);
/// `hot` faults repeatedly in one VMA (the tree's path stays cached: the
/// algorithmic cost of the O(log n) lookup and the decision).
fn fault_decision(c: &mut Criterion) {
    let mut group = c.benchmark_group("fault_decision");
    for n in SIZES {
        let mut space = space_with(n);
        let addrs = targets(n);
        let mut i = 0;
        group.bench_with_input(BenchmarkId::new("scattered", n), &n, |b, _| {
            b.iter(|| {
                i = (i + 1) % addrs.len();
                let d = space.fault(&mut OnePage, black_box(addrs[i]), Access::Write);
                debug_assert!(matches!(d, FaultDecision::Map(_)));
                black_box(d)
            })
        });
        let middle = FIRST + (n as u64 / 2) * STRIDE + 0x123;
        group.bench_with_input(BenchmarkId::new("hot", n), &n, |b, _| {
            b.iter(|| black_box(space.fault(&mut OnePage, black_box(middle), Access::Write)))
        });
    }
    group.finish();
}

fn mmap_munmap(c: &mut Criterion) {
    let mut group = c.benchmark_group("mmap_munmap");
    let flags = MapKind::PRIVATE.union(MapKind::ANONYMOUS);
    for n in SIZES {
        let mut space = space_with(n);
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| {
                let args = MmapArgs {
                    addr: 0,
                    len: 4 * PAGE_SIZE,
                    prot: Prot::RW,
                    flags,
                    file: None,
                };
                let (addr, _) = space.mmap(black_box(args)).expect("mmap");
                space.munmap(addr.0, 4 * PAGE_SIZE).expect("munmap")
            })
        });
    }
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50)
}

criterion_group! { name = benches; config = config(); targets = fault_decision, mmap_munmap }
criterion_main!(benches);
