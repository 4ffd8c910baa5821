//! With the `bert` feature, the binary needs libtorch's shared libraries at run time. torch-sys
//! tells its direct dependents where they are (`DEP_TCH_LIBTORCH_LIB`); recording that
//! directory as an rpath means `hark` runs without LD_LIBRARY_PATH or an activated virtualenv.
//!
//! With the `e5` feature (part of `bert`), the vendored `e5.c` engine of the multilingual
//! encoder is compiled: optimised, with OpenMP when the compiler has it, and with the AVX2
//! kernels when the build machine has them (set `HARK_E5_PORTABLE=1` for a binary that runs
//! on any x86-64).

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if let Ok(lib) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
    }
    #[cfg(feature = "e5")]
    build_e5();
}

#[cfg(feature = "e5")]
fn build_e5() {
    println!("cargo:rerun-if-changed=src/sentiment/e5/e5.c");
    println!("cargo:rerun-if-changed=src/sentiment/e5/e5.h");
    println!("cargo:rerun-if-env-changed=HARK_E5_PORTABLE");
    let mut build = cc::Build::new();
    build
        .file("src/sentiment/e5/e5.c")
        .include("src/sentiment/e5")
        .opt_level(3)
        .warnings(false);
    #[cfg(target_arch = "x86_64")]
    if std::env::var_os("HARK_E5_PORTABLE").is_none()
        && std::is_x86_feature_detected!("avx2")
        && std::is_x86_feature_detected!("fma")
    {
        build.flag("-mavx2").flag("-mfma");
    }
    let openmp = build.is_flag_supported("-fopenmp").unwrap_or(false);
    if openmp {
        build.flag("-fopenmp");
    }
    build.compile("e5");
    if openmp {
        println!("cargo:rustc-link-lib=gomp");
    }
}
