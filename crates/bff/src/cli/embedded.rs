//! The embedded sandbox (feature `sandbox`): started in this process on a
//! free loopback port as the upstream. It signs the deliveries to this BFF's
//! receiver with the BFF's webhook secret (the receiver is registered with
//! it through the sandbox's admin route: `crate::live_sandbox`), and every
//! other webhook with a secret of its own, as Conferbot does, so a webhook
//! created through the BFF never shows the BFF's secret to a browser.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use conferbot::RateSpec;
use conferbot_sandbox::{RunningSandbox, SandboxConfig};

use crate::config::BffConfig;
use crate::secret::ApiKey;

/// The sandbox, and `--sandbox-activity`.
#[derive(Debug)]
pub(crate) struct Embedded {
    pub(crate) sandbox: RunningSandbox,
    pub(crate) activity: Option<Duration>,
}

/// The sandbox's Starter key, which the BFF then uses.
pub(crate) fn key() -> std::io::Result<ApiKey> {
    ApiKey::new(conferbot_sandbox::keys::STARTER).ok_or(std::io::ErrorKind::InvalidData.into())
}

impl Embedded {
    /// Starts the sandbox in this process on a free loopback port and
    /// points `config` at it. Webhooks to `http://` and loopback URLs are
    /// allowed then (`--allow-local-webhooks`): the sandbox delivers to this
    /// BFF over loopback, and all of it is local.
    pub(crate) async fn start(
        mut config: BffConfig,
        rate: RateSpec,
        activity: Option<Duration>,
    ) -> std::io::Result<(BffConfig, Self)> {
        let sandbox_config = SandboxConfig {
            rate,
            ..SandboxConfig::default()
        };
        let sandbox =
            RunningSandbox::start(sandbox_config, SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
                .await?;
        config.settings.upstream = sandbox.base_url();
        config.settings.allow_local_webhooks = true;
        Ok((config, Self { sandbox, activity }))
    }
}

/// Says on stderr, unmissably, that the data is not real.
pub(crate) fn announce(key_configured: bool, asked: bool) {
    let why = match (asked, key_configured) {
        (true, true) => "--sandbox given: the configured API key is NOT used",
        (true, false) => "--sandbox given",
        (false, _) => "no API key configured (CONFERBOT_API_KEY or --api-key-file)",
    };
    eprintln!(
        "\n*** conferbot-bff: {why}.\n*** Serving the EMBEDDED SANDBOX (generated data, Starter plan), NOT the real Conferbot API.\n"
    );
}
