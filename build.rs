fn main() {
    println!("cargo:rerun-if-changed=csrc/entry.c");
    cc::Build::new().file("csrc/entry.c").flag("-fasynchronous-unwind-tables").flag("-fexceptions").compile("green_entry");
}
