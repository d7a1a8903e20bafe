//! The price file, `infra/prices.json` (dated list prices with their sources), and the memory each
//! function is given and how often it writes its metric lines (`infra/definitions/functions.json`):
//! what the benchmark's cost figures multiply its measured durations and counted requests by. No
//! price is typed in the code.

use std::collections::BTreeMap;
use std::path::Path;

/// List prices by name (`dynamodbWriteRequestUnitsPerMillion`, …), in USD.
pub struct Prices {
    pub as_of: String,
    pub region: String,
    usd: BTreeMap<String, f64>,
    memory_gb: BTreeMap<String, f64>,
    /// The functions whose metric lines are held back (`METRICS_FLUSH_SECONDS`), and for how long.
    metric_intervals: BTreeMap<String, f64>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct PriceFile {
    as_of: String,
    region: String,
    prices: BTreeMap<String, Price>,
}

#[derive(serde::Deserialize)]
struct Price {
    usd: f64,
}

impl Prices {
    /// Reads `infra/prices.json` and `infra/definitions/functions.json` under `root`.
    pub fn load(root: &Path) -> anyhow::Result<Self> {
        let path = root.join("infra/prices.json");
        let text = std::fs::read_to_string(&path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let file: PriceFile = serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let functions = weelo_definitions::load_functions(&root.join("infra/definitions"))?;
        let mut metric_intervals = BTreeMap::new();
        for function in &functions {
            if let Some(text) = function.environment.get(weelo_telemetry::FLUSH_VAR)
                && let weelo_telemetry::Flush::AtMostEvery(interval) = text.parse()?
            {
                metric_intervals.insert(function.name.clone(), interval.as_secs_f64());
            }
        }
        Ok(Self {
            as_of: file.as_of,
            region: file.region,
            usd: file.prices.into_iter().map(|(name, price)| (name, price.usd)).collect(),
            memory_gb: functions.into_iter().map(|f| (f.name, f64::from(f.memory_mb) / 1024.0)).collect(),
            metric_intervals,
        })
    }

    /// The price called `name`; an error naming it when the file has none.
    pub fn usd(&self, name: &str) -> anyhow::Result<f64> {
        self.usd.get(name).copied().ok_or_else(|| anyhow::anyhow!("infra/prices.json has no price {name:?}"))
    }

    /// The memory `function` is given, in GB (Lambda bills GB-seconds).
    pub fn memory_gb(&self, function: &str) -> anyhow::Result<f64> {
        self.memory_gb
            .get(function)
            .copied()
            .ok_or_else(|| anyhow::anyhow!("no function {function:?} in functions.json"))
    }

    /// How long `function` holds its metric lines back (seconds), if it does.
    pub fn metric_interval(&self, function: &str) -> Option<f64> {
        self.metric_intervals.get(function).copied()
    }

    /// What `invocations` of `function` lasting `seconds` each cost: GB-seconds and requests.
    pub fn lambda(&self, function: &str, seconds: f64, invocations: f64) -> anyhow::Result<f64> {
        let compute = invocations * seconds * self.memory_gb(function)? * self.usd("lambdaArmGbSecond")?;
        Ok(compute + invocations / 1e6 * self.usd("lambdaRequestsPerMillion")?)
    }
}
