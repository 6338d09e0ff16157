//! One HTTPS client for every SDK client of the controller.
//!
//! An SDK client built from a config without an HTTP client builds its own default one, and
//! with it its own TLS configuration, which loads the system's root certificates: about 80 KB a
//! client. With nine services in each (account, region), 20 scopes held 11.3 MB of the daemon's
//! 30.9 MB peak heap at 1,000 documents (heaptrack). The client here is the one the SDK builds
//! by default (hyper 1.x, rustls with aws-lc, the proxy from the environment), built once: it
//! keeps one connector per distinct connector setting (timeouts) and shares it.

use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use aws_smithy_http_client::{Builder, ConnectorBuilder};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use aws_types::SdkConfig;

/// The SDK's default HTTPS client, built once for all the clients made from one base config.
pub(crate) fn default_https_client() -> SharedHttpClient {
    Builder::new().build_with_connector_fn(|settings, components| {
        let mut connector =
            ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc));
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build()
    })
}

/// `base` with one shared HTTPS client, unless it brings its own (a test's).
pub(crate) fn with_shared_client(base: SdkConfig) -> SdkConfig {
    if base.http_client().is_some() {
        return base;
    }
    base.to_builder()
        .http_client(default_https_client())
        .build()
}
