// Placeholder until the generator lands (being written in parallel).
pub struct GenerateOptions { pub members: u32, pub months: u32, pub seed: u64, pub end: chrono::NaiveDate }
pub struct GenerateSummary { pub members: u64, pub orders: u64, pub events: u64, pub products: u64 }
pub fn generate(_options: &GenerateOptions, _out: &std::path::Path) -> anyhow::Result<GenerateSummary> {
    anyhow::bail!("not yet")
}
