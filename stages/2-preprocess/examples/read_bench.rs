//! Reader benchmark (used by bench.sh): sites/s of reading every site of a
//! preprocess artifact back, median of RUNS passes after a warm-up.
//! THREADS = 1: random access (`SiteTensors::read_pixels_into`) in a
//! shuffled order on the calling thread; THREADS > 1: the shuffled batch
//! iterator (`SiteTensors::batches`, batch 16) with THREADS reader threads.
//!
//! usage: read_bench DIR THREADS RUNS

use rcic_core::tensors::{BatchOptions, SiteTensors};

fn main() {
    rcic_core::tensors::tune_allocator();
    let a: Vec<String> = std::env::args().collect();
    let (dir, threads, runs): (&str, usize, usize) =
        (&a[1], a[2].parse().unwrap(), a[3].parse().unwrap());
    let t = SiteTensors::open(dir.as_ref()).unwrap();
    let mut rows = t.all_rows();
    rcic_core::pyrandom::PyRandom::new(1).shuffle(&mut rows);
    let mut buf = vec![0u8; t.site_bytes()];
    let mut checksum = 0u64;
    let mut pass = |seed: u64| -> f64 {
        let start = std::time::Instant::now();
        if threads == 1 {
            for &r in &rows {
                t.read_pixels_into(r, &mut buf).unwrap();
                checksum += buf[buf.len() / 2] as u64;
            }
        } else {
            let o = BatchOptions {
                batch_size: 16,
                shuffle: true,
                seed,
                drop_last: false,
                threads,
                prefetch: 2,
            };
            for b in t.batches(&rows, &o) {
                let b = b.unwrap();
                checksum += b.pixels[b.pixels.len() / 2] as u64;
            }
        }
        t.len() as f64 / start.elapsed().as_secs_f64()
    };
    pass(0);
    let mut v: Vec<f64> = (0..runs).map(|i| pass(i as u64 + 1)).collect();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    eprintln!("checksum {checksum}");
    println!("{:.2}", v[v.len() / 2]);
}
