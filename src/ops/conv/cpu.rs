//! Which instruction set the convolution kernels use, found at run time.
//!
//! The library is compiled for the baseline of its target (on x86-64: SSE2, 4 lanes of f32).
//! The register-blocked kernels (`micro.rs`, `micro_avx2.rs`) have a copy for each level
//! below, each compiled with its instructions enabled (`#[target_feature]`), and the copy to run
//! is picked when the plan is made: one binary is fast on an AVX2 or AVX-512 CPU and still
//! correct on any other.
//!
//! Tests and benchmarks can lower the level (the `isa` of
//! [`ConvOverride`](super::ConvOverride)), never raise it: calling a copy on a CPU without its
//! instructions would be undefined behaviour, so every such call first asks the CPU
//! ([`Isa::supported`]).

/// An instruction-set level the kernels have a copy for, lowest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Isa {
    /// The target's baseline: plain Rust, vectorised as far as the baseline allows.
    Portable,
    /// x86-64 with AVX2 and FMA: 8 lanes of f32 in each of 16 registers, fused multiply-add.
    Avx2,
    /// x86-64 with AVX-512F: 16 lanes of f32 in each of 32 registers, fused multiply-add.
    Avx512,
}

impl Isa {
    /// Every level, lowest first.
    pub const ALL: [Isa; 3] = [Isa::Portable, Isa::Avx2, Isa::Avx512];

    /// Whether this CPU runs the copies for `self` (asked once per feature;
    /// `is_x86_feature_detected!` caches the answer).
    pub fn supported(self) -> bool {
        match self {
            Isa::Portable => true,
            #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
            Isa::Avx2 => {
                std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
            }
            #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
            Isa::Avx512 => std::arch::is_x86_feature_detected!("avx512f"),
            #[cfg(not(any(target_arch = "x86", target_arch = "x86_64")))]
            _ => false,
        }
    }

    /// The best level this CPU supports.
    pub fn detected() -> Isa {
        Isa::ALL
            .into_iter()
            .rev()
            .find(|isa| isa.supported())
            .unwrap_or(Isa::Portable)
    }

    /// Whether the CPU is AMD's (x86 vendor string `AuthenticAMD`, asked once). AMD's cores up
    /// to Zen 4 run a 512-bit instruction as two 256-bit halves, so the balance between the
    /// register-blocked kernels and the GEMM crate differs from Intel's: see
    /// [`ConvPlan`](super::ConvPlan).
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_detected_level_is_supported_and_so_is_every_lower_one() {
        let cpu = Isa::detected();
        assert!(cpu.supported());
        for isa in Isa::ALL.into_iter().filter(|&isa| isa <= cpu) {
            assert!(isa.supported(), "{isa:?} below {cpu:?}");
        }
        // AVX-512F implies AVX2 and FMA on every CPU that has it
        assert!(Isa::Avx512.supported() <= Isa::Avx2.supported());
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
