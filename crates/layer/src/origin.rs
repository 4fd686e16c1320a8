//! Which pages may speak to the agent. Every page the browser opens can open a socket to 127.0.0.1, and
//! the browser names the page in the handshake's `Origin` header, which a page cannot set: so the agent
//! serves the origins the person named (the portal's) and refuses every other handshake, before a word of
//! the protocol is said.

use std::fmt;

use url::Url;

/// A web origin, `scheme://host[:port]`, in the form browsers send it: lower-case scheme and host, no
/// default port (`https://x:443` is `https://x`), no path and no trailing slash. Two origins are the same
/// site only when all three parts are equal, which is what comparing these strings does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin(String);

/// The rule an origin broke, said with the text that broke it.
#[derive(Debug, thiserror::Error)]
#[error(
    "{text:?} is not a web origin: {rule}; an origin is scheme://host[:port], e.g. http://127.0.0.1:8080"
)]
pub struct OriginError {
    text: String,
    rule: &'static str,
}

impl Origin {
    /// Reads an origin: `http` or `https`, a host, an optional port and nothing else (a single trailing
    /// slash is forgiven, as people copy addresses from the browser's bar).
    pub fn parse(text: &str) -> Result<Origin, OriginError> {
        let refuse = |rule| OriginError {
            text: text.to_owned(),
            rule,
        };
        // The URL parser drops tabs and newlines and trims spaces; an origin has none to drop.
        if text.is_empty() || text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(refuse("it is empty or has spaces or control characters"));
        }
        let url = Url::parse(text).map_err(|_| refuse("it is not a URL"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(refuse("the scheme must be http or https"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(refuse("it must not name a user"));
        }
        if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
            return Err(refuse("it must have no path, query or fragment"));
        }
        Ok(Origin(url.origin().ascii_serialization()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The origins whose pages the agent serves.
#[derive(Debug, Clone)]
pub struct AllowedOrigins(Vec<Origin>);

/// Where `qyzmet demo` and `qyzmet serve` listen unless told otherwise, by both loopback names, over http
/// and https: the deployment a person running this agent without `--allow-origin` is using.
const LOCAL_DEPLOYMENT: [&str; 4] = [
    "http://127.0.0.1:8080",
    "http://localhost:8080",
    "https://127.0.0.1:8080",
    "https://localhost:8080",
];

impl AllowedOrigins {
    /// Exactly these origins.
    pub fn new(origins: Vec<Origin>) -> AllowedOrigins {
        AllowedOrigins(origins)
    }

    /// The local deployment's origins (`http(s)://127.0.0.1:8080`, `http(s)://localhost:8080`).
    pub fn local_deployment() -> AllowedOrigins {
        AllowedOrigins(
            LOCAL_DEPLOYMENT
                .iter()
                .filter_map(|text| Origin::parse(text).ok())
                .collect(),
        )
    }

    /// Whether a handshake with this `Origin` header is served. No header is refused: browsers always
    /// send one, and a program on this computer that speaks to the agent sends an allowed one.
    pub fn allows(&self, header: Option<&str>) -> bool {
        header
            .and_then(|text| Origin::parse(text).ok())
            .is_some_and(|origin| self.0.contains(&origin))
    }

    pub fn iter(&self) -> impl Iterator<Item = &Origin> {
        self.0.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(text: &str) -> String {
        Origin::parse(text)
            .map(|o| o.to_string())
            .unwrap_or_else(|e| e.to_string())
    }

    #[test]
    fn origins_are_normalised_as_browsers_send_them() {
        assert_eq!(origin("HTTPS://Portal.EXAMPLE/"), "https://portal.example");
        assert_eq!(
            origin("https://portal.example:443"),
            "https://portal.example"
        );
        assert_eq!(origin("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
        assert_eq!(origin("http://[::1]:8080"), "http://[::1]:8080");
    }

    #[test]
    fn what_is_not_an_origin_is_refused_with_the_rule() {
        for (text, rule) in [
            ("", "empty"),
            ("null", "not a URL"),
            ("http://127.0.0.1:8080/login", "no path"),
            ("http://127.0.0.1:8080?x=1", "no path, query"),
            ("http://a@127.0.0.1:8080", "user"),
            ("ftp://127.0.0.1", "http or https"),
            ("chrome-extension://abcdef", "http or https"),
            ("http://127.0.0.1:80\t80", "control"),
            (" http://127.0.0.1:8080", "spaces"),
        ] {
            let message = origin(text);
            assert!(message.contains(rule), "{text:?}: {message}");
        }
    }

    #[test]
    fn only_listed_origins_are_allowed_scheme_host_and_port_alike() {
        let allowed = AllowedOrigins::new(vec![
            Origin::parse("https://portal.example").expect("origin"),
        ]);
        assert!(allowed.allows(Some("https://portal.example")));
        assert!(allowed.allows(Some("https://PORTAL.example:443")));
        for other in [
            "http://portal.example",
            "https://portal.example:8443",
            "https://portal.example.evil.test",
            "https://evil.test",
            "null",
            "",
        ] {
            assert!(!allowed.allows(Some(other)), "{other}");
        }
        assert!(!allowed.allows(None));
    }

    #[test]
    fn the_default_is_the_local_deployment() {
        let allowed = AllowedOrigins::local_deployment();
        assert_eq!(allowed.iter().count(), LOCAL_DEPLOYMENT.len());
        assert!(allowed.allows(Some("http://127.0.0.1:8080")));
        assert!(allowed.allows(Some("https://localhost:8080")));
        assert!(!allowed.allows(Some("http://127.0.0.1:8081")));
    }
}
