//! With the `bert` feature, the binary needs libtorch's shared libraries at run time. torch-sys
//! tells its direct dependents where they are (`DEP_TCH_LIBTORCH_LIB`); recording that
//! directory as an rpath means `hark` runs without LD_LIBRARY_PATH or an activated virtualenv.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if let Ok(lib) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
    }
}
