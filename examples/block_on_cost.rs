//! Instruction-count probe (run under callgrind): `block_on` round trips on a
//! multi-thread runtime (`multi`), or parks of a current-thread runtime (`current`).
fn main() {
    let mode = std::env::args().nth(1).unwrap_or_default();
    let n = 20_000;
    if mode == "multi" {
        let rt = ticktock::Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap();
        for _ in 0..n {
            rt.block_on(async { ticktock::spawn(async {}).await.unwrap() });
        }
    } else {
        let rt = ticktock::Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            for _ in 0..n {
                ticktock::time::sleep(std::time::Duration::from_micros(1)).await;
            }
        });
    }
}
