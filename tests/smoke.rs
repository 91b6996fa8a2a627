use std::time::{Duration, Instant};

#[test]
fn smoke() {
    let rt = ticktock::Builder::new_multi_thread().worker_threads(2).build().unwrap();
    let start = Instant::now();
    let n = rt.block_on(async {
        let mut hs = Vec::new();
        for i in 0..100u64 {
            hs.push(ticktock::spawn(async move {
                ticktock::time::sleep(Duration::from_millis(i % 20)).await;
                i
            }));
        }
        let mut s = 0;
        for h in hs { s += h.await.unwrap(); }
        s
    });
    assert_eq!(n, 4950);
    println!("{:?}", start.elapsed());
    let rt = ticktock::Builder::new_current_thread().build().unwrap();
    let n = rt.block_on(async {
        let h = ticktock::spawn(async { ticktock::time::sleep(Duration::from_millis(5)).await; 3 });
        h.await.unwrap()
    });
    assert_eq!(n, 3);
}
