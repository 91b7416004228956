fn main() {
    println!("cargo:rerun-if-changed=csrc/entry.c");
    println!("cargo:rerun-if-changed=csrc/printf.c");
    println!("cargo:rerun-if-changed=csrc/scanf.c");
    cc::Build::new().file("csrc/entry.c").flag("-fasynchronous-unwind-tables").flag("-fexceptions").compile("green_entry");
    cc::Build::new().file("csrc/printf.c").flag("-fasynchronous-unwind-tables").flag("-fexceptions").compile("green_printf");
    cc::Build::new().file("csrc/scanf.c").flag("-fasynchronous-unwind-tables").flag("-fexceptions").compile("green_scanf");
}
