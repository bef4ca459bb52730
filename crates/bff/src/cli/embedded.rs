//! The embedded sandbox (feature `sandbox`): started in this process on a
//! free loopback port as the upstream, signing its deliveries with the BFF's
//! webhook secret.

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
    /// Starts the sandbox in this process on a free loopback port, signing
    /// deliveries with the config's webhook secret, and points `config`
    /// at it.
    pub(crate) async fn start(
        mut config: BffConfig,
        rate: RateSpec,
        activity: Option<Duration>,
    ) -> std::io::Result<(BffConfig, Self)> {
        let sandbox_config = SandboxConfig {
            rate,
            webhook_secret: config
                .webhook_secret
                .as_ref()
                .map(|s| s.expose().to_owned()),
            ..SandboxConfig::default()
        };
        let sandbox =
            RunningSandbox::start(sandbox_config, SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
                .await?;
        config.settings.upstream = sandbox.base_url();
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
