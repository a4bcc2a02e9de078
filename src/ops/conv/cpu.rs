//! Which instruction set the convolution kernels use, found at run time.
//!
//! The library is compiled for the baseline of its target (on x86-64: SSE2, 4 lanes of f32).
//! The register-blocked kernels (`blocked.rs`) are compiled a second time with
//! AVX-512 enabled (`#[target_feature]`), where each vector holds 16 f32 and a multiply-add is
//! one fused instruction, and the copy to run is picked when the kernel starts: one binary is
//! fast on an AVX-512 CPU and still correct on any other.
//!
//! Tests and benchmarks can lower the choice ([`Isa::cap`]), never raise it: calling the
//! AVX-512 copy on a CPU without AVX-512 would be undefined behaviour, so the only way in is
//! [`Isa::current`], which asks the CPU.

use std::cell::Cell;

/// An instruction-set level the kernels have a copy for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Isa {
    /// The target's baseline: plain Rust, vectorised as far as the baseline allows.
    Portable,
    /// x86-64 with AVX-512F (which implies AVX2 and FMA): 16 lanes of f32, fused multiply-add.
    Avx512,
}

thread_local! {
    /// The highest level allowed on this thread ([`Isa::cap`]).
    static CAP: Cell<Isa> = const { Cell::new(Isa::Avx512) };
}

impl Isa {
    /// The best level this CPU supports (asked once; `is_x86_feature_detected!` caches it).
    pub fn detected() -> Isa {
        #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
        if std::arch::is_x86_feature_detected!("avx512f") {
            return Isa::Avx512;
        }
        Isa::Portable
    }

    /// Whether the CPU is AMD's (x86 vendor string `AuthenticAMD`, asked once). AMD's cores up
    /// to Zen 4 run a 512-bit instruction as two 256-bit halves, so the balance between the
    /// register-blocked kernels and the GEMM crate differs from Intel's: see
    /// [`ConvAlgorithm::for_pass`](super::ConvAlgorithm::for_pass).
    pub fn amd() -> bool {
        static AMD: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        *AMD.get_or_init(|| {
            #[cfg(target_arch = "x86_64")]
            {
                // Leaf 0: the vendor string, 12 bytes in EBX, EDX, ECX.
                let leaf = std::arch::x86_64::__cpuid(0);
                let vendor = [leaf.ebx, leaf.edx, leaf.ecx].map(u32::to_le_bytes);
                vendor.as_flattened() == b"AuthenticAMD"
            }
            #[cfg(not(target_arch = "x86_64"))]
            false
        })
    }

    /// The level kernels started on this thread use: the CPU's, lowered by [`Isa::cap`].
    pub fn current() -> Isa {
        Isa::detected().min(CAP.get())
    }

    /// Runs `f` with the kernels it starts on this thread limited to `self` or lower (the
    /// portable copy for `Isa::Portable`): for tests of the fallback and for benchmarks. It
    /// can only lower the level: `Isa::Avx512.cap(..)` on a CPU without AVX-512 still runs the
    /// portable copy.
    pub fn cap<R>(self, f: impl FnOnce() -> R) -> R {
        /// Restores the previous cap even if `f` panics.
        struct Restore(Isa);
        impl Drop for Restore {
            fn drop(&mut self) {
                CAP.set(self.0);
            }
        }
        let _restore = Restore(CAP.replace(self));
        f()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cap_lowers_the_level_and_never_raises_it() {
        let cpu = Isa::detected();
        assert_eq!(Isa::current(), cpu);
        assert_eq!(Isa::Portable.cap(Isa::current), Isa::Portable);
        // Asking for AVX-512 gives at most what the CPU has: the claim the kernels'
        // `unsafe` calls rest on.
        assert_eq!(Isa::Avx512.cap(Isa::current), cpu);
        assert!(Isa::Avx512.cap(Isa::current) <= cpu);
        // Nested caps restore the outer one.
        Isa::Portable.cap(|| {
            assert_eq!(
                Isa::Avx512.cap(Isa::current),
                Isa::Portable.max(cpu.min(Isa::Avx512))
            );
            assert_eq!(Isa::current(), Isa::Portable);
        });
        assert_eq!(Isa::current(), cpu);
    }

    #[test]
    fn the_vendor_matches_proc_cpuinfo() {
        // Linux names the vendor in /proc/cpuinfo; elsewhere there is nothing to compare with.
        if let Ok(info) = std::fs::read_to_string("/proc/cpuinfo") {
            if let Some(line) = info.lines().find(|l| l.starts_with("vendor_id")) {
                assert_eq!(Isa::amd(), line.contains("AuthenticAMD"), "{line}");
            }
        }
    }
}
