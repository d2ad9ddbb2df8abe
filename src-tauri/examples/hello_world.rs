//! The baseline for `cargo xtask bench app`: the smallest Tauri 2 app, one
//! window showing one static page, built with the same Tauri as Strongroom.
//! The benchmark compares Strongroom's startup and idle memory with this.

fn main() {
    let result = tauri::Builder::default().run(tauri::generate_context!(
        "src-tauri/examples/hello-world/tauri.conf.json"
    ));
    if let Err(error) = result {
        eprintln!("hello world could not start: {error}");
        std::process::exit(1);
    }
}
