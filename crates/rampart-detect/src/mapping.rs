//! Where Sigma rules meet rampart events, in two tables kept in one place so
//! they can be read and checked: a rule's `logsource` → the events it may
//! match (datasets, Windows channels and Event IDs, Linux programs), and a
//! Sigma field name → the event fields that carry it.
//!
//! Routing is strict: a Windows rule for `process_creation` sees Sysmon 1 and
//! Security 4688 events, never an Event ID 1 from another channel.

use crate::rule::LogSource;

/// One kind of event a rule admits; every part that is given must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Admit {
    /// `event.dataset` values (any, when empty). A value ending in `.` is a
    /// prefix (`windows.` admits every Windows dataset).
    pub datasets: Vec<String>,
    /// Windows channels, lower case (any, when empty).
    pub channels: Vec<String>,
    /// Event IDs (`event.code`; any, when empty).
    pub event_ids: Vec<i64>,
    /// `process.name` values, lower case (any, when empty).
    pub programs: Vec<String>,
}

/// The events a rule may match: any of its admits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Alternatives; a route with none admits every event.
    pub admits: Vec<Admit>,
    /// Set when no rampart parser produces these events yet: the rule loads
    /// and is listed, but cannot fire until such a source exists.
    pub no_source: Option<String>,
}

const SYSMON: &str = "microsoft-windows-sysmon/operational";
const SECURITY: &str = "security";
const POWERSHELL: &str = "microsoft-windows-powershell/operational";
const POWERSHELL_CLASSIC: &str = "windows powershell";

/// A channel and the Event IDs of one kind of event in it.
type ChannelIds = (&'static str, &'static [i64]);

/// Windows categories: the channel and Event IDs of each (Sysmon's event
/// types, the PowerShell logs, and Security 4688/4689 for process events).
const WINDOWS_CATEGORIES: &[(&str, &[ChannelIds])] = &[
    ("process_creation", &[(SYSMON, &[1]), (SECURITY, &[4688])]),
    ("file_change", &[(SYSMON, &[2])]),
    ("network_connection", &[(SYSMON, &[3])]),
    ("sysmon_status", &[(SYSMON, &[4, 16])]),
    (
        "process_termination",
        &[(SYSMON, &[5]), (SECURITY, &[4689])],
    ),
    ("driver_load", &[(SYSMON, &[6])]),
    ("image_load", &[(SYSMON, &[7])]),
    ("create_remote_thread", &[(SYSMON, &[8])]),
    ("raw_access_thread", &[(SYSMON, &[9])]),
    ("process_access", &[(SYSMON, &[10])]),
    ("file_event", &[(SYSMON, &[11])]),
    ("registry_add", &[(SYSMON, &[12])]),
    ("registry_delete", &[(SYSMON, &[12])]),
    ("registry_set", &[(SYSMON, &[13])]),
    ("registry_rename", &[(SYSMON, &[14])]),
    ("registry_event", &[(SYSMON, &[12, 13, 14])]),
    ("create_stream_hash", &[(SYSMON, &[15])]),
    ("pipe_created", &[(SYSMON, &[17, 18])]),
    ("wmi_event", &[(SYSMON, &[19, 20, 21])]),
    ("dns_query", &[(SYSMON, &[22])]),
    ("file_delete", &[(SYSMON, &[23, 26])]),
    ("clipboard_capture", &[(SYSMON, &[24])]),
    ("process_tampering", &[(SYSMON, &[25])]),
    ("file_delete_detected", &[(SYSMON, &[26])]),
    ("file_block_executable", &[(SYSMON, &[27])]),
    ("file_block_shredding", &[(SYSMON, &[28])]),
    ("file_executable_detected", &[(SYSMON, &[29])]),
    ("sysmon_error", &[(SYSMON, &[255])]),
    ("ps_module", &[(POWERSHELL, &[4103])]),
    ("ps_script", &[(POWERSHELL, &[4104])]),
    ("ps_classic_start", &[(POWERSHELL_CLASSIC, &[400])]),
    ("ps_classic_provider_start", &[(POWERSHELL_CLASSIC, &[600])]),
    ("ps_classic_script", &[(POWERSHELL_CLASSIC, &[800])]),
    (
        "file_access",
        &[("microsoft-windows-kernel-file/analytic", &[])],
    ),
    (
        "file_rename",
        &[("microsoft-windows-kernel-file/analytic", &[])],
    ),
];

/// Windows services: their channels.
const WINDOWS_SERVICES: &[(&str, &[&str])] = &[
    ("security", &[SECURITY]),
    ("system", &["system"]),
    ("application", &["application"]),
    ("sysmon", &[SYSMON]),
    ("powershell", &[POWERSHELL]),
    ("powershell-classic", &[POWERSHELL_CLASSIC]),
    (
        "taskscheduler",
        &["microsoft-windows-taskscheduler/operational"],
    ),
    ("wmi", &["microsoft-windows-wmi-activity/operational"]),
    ("dns-server", &["dns server"]),
    (
        "dns-server-analytic",
        &["microsoft-windows-dns-server/analytical"],
    ),
    (
        "dns-client",
        &["microsoft-windows-dns client events/operational"],
    ),
    (
        "driver-framework",
        &["microsoft-windows-driverframeworks-usermode/operational"],
    ),
    (
        "windefend",
        &["microsoft-windows-windows defender/operational"],
    ),
    (
        "bits-client",
        &["microsoft-windows-bits-client/operational"],
    ),
    (
        "applocker",
        &[
            "microsoft-windows-applocker/exe and dll",
            "microsoft-windows-applocker/msi and script",
            "microsoft-windows-applocker/packaged app-deployment",
            "microsoft-windows-applocker/packaged app-execution",
        ],
    ),
    (
        "firewall-as",
        &["microsoft-windows-windows firewall with advanced security/firewall"],
    ),
    (
        "codeintegrity-operational",
        &["microsoft-windows-codeintegrity/operational"],
    ),
    ("ntlm", &["microsoft-windows-ntlm/operational"]),
    ("msexchange-management", &["msexchange management"]),
    (
        "appxdeployment-server",
        &["microsoft-windows-appxdeploymentserver/operational"],
    ),
    (
        "appxpackaging-om",
        &["microsoft-windows-appxpackaging/operational"],
    ),
    (
        "appmodel-runtime",
        &["microsoft-windows-appmodel-runtime/admin"],
    ),
    (
        "iis-configuration",
        &["microsoft-iis-configuration/operational"],
    ),
    (
        "security-mitigations",
        &[
            "microsoft-windows-security-mitigations/kernel mode",
            "microsoft-windows-security-mitigations/user mode",
        ],
    ),
    (
        "terminalservices-localsessionmanager",
        &["microsoft-windows-terminalservices-localsessionmanager/operational"],
    ),
    ("openssh", &["openssh/operational"]),
    (
        "smbclient-security",
        &["microsoft-windows-smbclient/security"],
    ),
    (
        "smbclient-connectivity",
        &["microsoft-windows-smbclient/connectivity"],
    ),
    (
        "smbserver-connectivity",
        &["microsoft-windows-smbserver/connectivity"],
    ),
    ("ldap", &["microsoft-windows-ldap-client/debug"]),
    ("lsa-server", &["microsoft-windows-lsa/operational"]),
    ("capi2", &["microsoft-windows-capi2/operational"]),
    ("shell-core", &["microsoft-windows-shell-core/operational"]),
    (
        "certificateservicesclient-lifecycle-system",
        &["microsoft-windows-certificateservicesclient-lifecycle-system/operational"],
    ),
    (
        "diagnosis-scripted",
        &["microsoft-windows-diagnosis-scripted/operational"],
    ),
    (
        "microsoft-servicebus-client",
        &["microsoft-servicebus-client"],
    ),
    (
        "printservice-admin",
        &["microsoft-windows-printservice/admin"],
    ),
    (
        "printservice-operational",
        &["microsoft-windows-printservice/operational"],
    ),
    ("vhdmp", &["microsoft-windows-vhdmp-operational"]),
    (
        "kernel-shimengine",
        &["microsoft-windows-kernel-shimengine/operational"],
    ),
    (
        "hyper-v-worker",
        &["microsoft-windows-hyper-v-worker-admin"],
    ),
    ("sysmon-operational", &[SYSMON]),
];

/// Linux services: the `process.name` that writes them to syslog.
const LINUX_PROGRAMS: &[(&str, &[&str])] = &[
    ("sshd", &["sshd"]),
    ("sudo", &["sudo"]),
    ("su", &["su"]),
    ("cron", &["cron", "crond", "anacron"]),
    ("vsftpd", &["vsftpd"]),
    ("clamav", &["clamd", "freshclam", "clamav"]),
    ("guacamole", &["guacd", "guacamole"]),
    ("sshd-pam", &["sshd"]),
];

/// Sysmon for Linux: its channel, dataset, and the Event IDs of the Sigma
/// categories it gives (the same numbering as Sysmon for Windows).
const LINUX_SYSMON: &str = "linux-sysmon/operational";
const LINUX_SYSMON_DATASET: &str = "linux.sysmon";
const LINUX_SYSMON_CATEGORIES: &[(&str, &[i64])] = &[
    ("process_creation", &[1]),
    ("network_connection", &[3]),
    ("process_termination", &[5]),
    ("raw_access_thread", &[9]),
    ("file_event", &[11]),
    ("file_delete", &[23]),
];

/// Audit records, one event each, fields under `auditd.log.`.
const LINUX_AUDITD_DATASET: &str = "linux.auditd";

/// Every dataset rampart's syslog parser gives.
const SYSLOG_DATASETS: &[&str] = &[
    "linux.syslog",
    "linux.auth",
    "linux.cron",
    "linux.kernel",
    "firewall.ufw",
    "firewall.iptables",
];

/// A service's audit records: the datasets its parser gives them, and
/// the prefix its own keys are kept under.
#[derive(Debug, Clone, Copy)]
struct ServiceSource {
    datasets: &'static [&'static str],
    prefix: &'static str,
    /// Sigma field names some rules use that the exports spell otherwise,
    /// and where the exports keep them (under the prefix).
    aliases: &'static [(&'static str, &'static [&'static str])],
}

const AZURE_ALIASES: &[(&str, &[&str])] = &[
    // Column names of Log Analytics' tables, which rules were written on.
    ("OperationNameValue", &["operationName"]),
    ("CategoryValue", &["category"]),
    ("ResourceId", &["resourceId"]),
    ("ClientApp", &["properties.clientAppUsed"]),
    (
        "DeviceDetail.trusttype",
        &["properties.deviceDetail.trustType"],
    ),
    (
        "Resultdescription",
        &["resultDescription", "properties.status.failureReason"],
    ),
    (
        "ResultDescription",
        &["resultDescription", "properties.status.failureReason"],
    ),
    ("ResultType", &["resultType", "properties.status.errorCode"]),
    // Audit log rules name the activity `properties.message`, which only
    // the activity log has.
    (
        "properties.message",
        &["properties.message", "properties.activityDisplayName"],
    ),
];

const GCP_ALIASES: &[(&str, &[&str])] = &[
    // Elastic's name for the audited method.
    ("gcp.audit.method_name", &["protoPayload.methodName"]),
    ("data.protoPayload.logName", &["logName"]),
    ("data.protoPayload.resource.type", &["resource.type"]),
    ("eventService", &["protoPayload.serviceName"]),
    ("eventName", &["protoPayload.metadata.event.eventName"]),
];

const M365_ALIASES: &[(&str, &[&str])] = &[
    ("RequestType", &["ExtendedProperties.RequestType"]),
    ("eventSource", &["Workload"]),
    ("eventName", &["Name", "Operation"]),
    ("status", &["Status", "ResultStatus"]),
    ("Payload", &["Data"]),
];

const OKTA_ALIASES: &[(&str, &[&str])] = &[
    ("eventtype", &["eventType"]),
    ("displaymessage", &["displayMessage"]),
];

const KUBERNETES_ALIASES: &[(&str, &[&str])] = &[
    ("apiGroup", &["objectRef.apiGroup"]),
    ("hostPath", &["requestObject.spec.volumes.hostPath.path"]),
    (
        "capabilities",
        &["requestObject.spec.containers.securityContext.capabilities.add"],
    ),
];

const ESLOGGER_FIELDS: &[(&str, &[&str])] = &[
    ("Image", &["process.executable"]),
    ("CommandLine", &["process.command_line"]),
    ("ParentImage", &["process.parent.executable"]),
    ("ParentCommandLine", &["process.parent.command_line"]),
    ("TargetFilename", &["file.path"]),
    ("User", &["user.id"]),
];

/// Sigma's cloud, identity and platform log sources, and macOS's.
fn service_source(
    product: Option<&str>,
    category: Option<&str>,
    service: Option<&str>,
) -> Option<ServiceSource> {
    let source = |datasets, prefix, aliases| {
        Some(ServiceSource {
            datasets,
            prefix,
            aliases,
        })
    };
    match (product?, service, category) {
        ("aws", Some("cloudtrail"), _) => source(&["aws.cloudtrail"], "aws.cloudtrail", &[]),
        ("azure", Some("pim"), _) => source(&[], "azure", AZURE_ALIASES),
        ("azure", Some("activitylogs"), _) => {
            source(&["azure.activitylogs"], "azure", AZURE_ALIASES)
        }
        ("azure", Some("auditlogs"), _) => source(&["azure.auditlogs"], "azure", AZURE_ALIASES),
        ("azure", Some("signinlogs"), _) => source(&["azure.signinlogs"], "azure", AZURE_ALIASES),
        ("azure", Some("riskdetection"), _) => {
            source(&["azure.riskdetection"], "azure", AZURE_ALIASES)
        }
        ("gcp", Some("gcp.audit"), _) => source(&["gcp.audit"], "gcp", GCP_ALIASES),
        ("gcp", Some("google_workspace.admin"), _) => {
            source(&["google_workspace.admin"], "gcp", GCP_ALIASES)
        }
        ("gcp", Some("google_workspace.login"), _) => {
            source(&["google_workspace.login"], "gcp", GCP_ALIASES)
        }
        ("m365", Some(_), _) => source(&["m365.audit"], "m365.audit", M365_ALIASES),
        ("okta", _, _) => source(&["okta.system"], "okta", OKTA_ALIASES),
        ("onelogin", _, _) => source(&["onelogin.events"], "onelogin", &[]),
        ("cisco", Some("duo"), _) => source(&["cisco.duo"], "duo", &[]),
        ("github", _, _) => source(&["github.audit"], "github", &[]),
        ("bitbucket", _, _) => source(&["bitbucket.audit"], "bitbucket", &[]),
        ("kubernetes", _, _) => source(
            &["kubernetes.audit"],
            "kubernetes.audit",
            KUBERNETES_ALIASES,
        ),
        ("opencanary", _, _) => source(&["opencanary"], "opencanary", &[]),
        ("macos", _, Some("process_creation")) => source(&["macos.process"], "", ESLOGGER_FIELDS),
        ("macos", _, Some("file_event")) => source(&["macos.file"], "", ESLOGGER_FIELDS),
        _ => None,
    }
}

/// Application frameworks whose Sigma rules look for keywords (exception
/// names, error texts) in their logs.
const APPLICATION_LOGS: &[&str] = &[
    "jvm",
    "spring",
    "sql",
    "python",
    "velocity",
    "django",
    "nodejs",
    "ruby_on_rails",
];

/// Where a field of a service's rules is found: its alias, the name as
/// the rule gives it under the service's prefix, for Azure the same name
/// under `properties` in the exports' camel case, and the name itself (an
/// ECS field).
fn service_fields(source: &ServiceSource, field: &str) -> Vec<String> {
    let under = |name: &str| {
        if source.prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{}.{name}", source.prefix)
        }
    };
    let mut names: Vec<String> = Vec::new();
    if let Some((_, to)) = source.aliases.iter().find(|(f, _)| *f == field) {
        names.extend(to.iter().map(|t| under(t)));
    }
    names.push(under(field));
    if source.prefix == "azure" {
        let camel: Vec<String> = field
            .split('.')
            .map(|part| {
                let mut chars = part.chars();
                chars.next().map_or_else(String::new, |c| {
                    c.to_ascii_lowercase().to_string() + chars.as_str()
                })
            })
            .collect();
        let camel = camel.join(".");
        names.push(under(&format!("properties.{camel}")));
        names.push(under(&camel));
    }
    if !field.starts_with(source.prefix) || source.prefix.is_empty() {
        names.push(field.to_owned());
    }
    let mut seen = Vec::new();
    names.retain(|n| {
        let fresh = !seen.contains(n);
        seen.push(n.clone());
        fresh
    });
    names
}

fn admit(datasets: &[&str]) -> Admit {
    Admit {
        datasets: datasets.iter().map(|d| (*d).to_owned()).collect(),
        ..Admit::default()
    }
}

fn route(admits: Vec<Admit>) -> Result<Route, String> {
    Ok(Route {
        admits,
        no_source: None,
    })
}

fn no_source(dataset: String, why: String) -> Result<Route, String> {
    Ok(Route {
        admits: vec![Admit {
            datasets: vec![dataset],
            ..Admit::default()
        }],
        no_source: Some(why),
    })
}

/// The events a log source admits.
pub fn route_of(ls: &LogSource) -> Result<Route, String> {
    let (product, category, service) = (
        ls.product.as_deref(),
        ls.category.as_deref(),
        ls.service.as_deref(),
    );
    if let Some(source) = service_source(product, category, service) {
        if source.datasets.is_empty() {
            return no_source(
                format!("{}.{}", product.unwrap_or(""), service.unwrap_or("")),
                "no exported log category carries these records".to_owned(),
            );
        }
        return route(vec![admit(source.datasets)]);
    }
    match product {
        Some("windows") => windows(category, service),
        Some("linux") => linux(category, service),
        Some("zeek") => match (category, service) {
            (_, Some(s)) => route(vec![admit(&[&format!("zeek.{s}")])]),
            (Some("dns"), None) => route(vec![admit(&["zeek.dns"])]),
            _ => route(vec![admit(&["zeek."])]),
        },
        Some("suricata") => route(vec![admit(&["suricata.eve"])]),
        Some("cisco") if service == Some("asa") => route(vec![admit(&["cisco.asa"])]),
        Some("rpc_firewall") => route(vec![Admit {
            datasets: vec!["windows.".into()],
            channels: vec!["rpcfw".into()],
            ..Admit::default()
        }]),
        // An application's log reaches rampart as its own file, through
        // syslog or the journal, or as JSON: these keyword rules see every
        // event.
        Some(app) if category == Some("application") && APPLICATION_LOGS.contains(&app) => {
            route(Vec::new())
        }
        Some("cisco") => route(vec![admit(&["cisco.ios"])]),
        Some("fortigate") => route(vec![admit(&["fortinet.fortigate"])]),
        Some("huawei") => route(vec![admit(&["huawei.vrp"])]),
        Some("juniper") => route(vec![admit(&["juniper.junos"])]),
        None | Some("") => generic(category, service),
        Some(other) => no_source(
            format!("{other}.{}", service.or(category).unwrap_or("log")),
            format!("rampart has no parser for {other} logs yet"),
        ),
    }
}

fn windows(category: Option<&str>, service: Option<&str>) -> Result<Route, String> {
    if let Some(category) = category {
        let Some((_, sources)) = WINDOWS_CATEGORIES.iter().find(|(c, _)| *c == category) else {
            return Err(format!("unknown Windows category '{category}'"));
        };
        let admits = sources
            .iter()
            .map(|(channel, ids)| Admit {
                datasets: vec!["windows.".into()],
                channels: vec![(*channel).to_owned()],
                event_ids: ids.to_vec(),
                programs: Vec::new(),
            })
            .collect();
        return route(admits);
    }
    if let Some(service) = service {
        let Some((_, channels)) = WINDOWS_SERVICES.iter().find(|(s, _)| *s == service) else {
            return Err(format!(
                "unknown Windows service '{service}' (no channel known for it)"
            ));
        };
        return route(vec![Admit {
            datasets: vec!["windows.".into()],
            channels: channels.iter().map(|c| (*c).to_owned()).collect(),
            ..Admit::default()
        }]);
    }
    route(vec![admit(&["windows."])])
}

fn linux(category: Option<&str>, service: Option<&str>) -> Result<Route, String> {
    match (category, service) {
        (Some(category), _) => match LINUX_SYSMON_CATEGORIES.iter().find(|(c, _)| *c == category) {
            Some((_, ids)) => route(vec![Admit {
                datasets: vec![LINUX_SYSMON_DATASET.into()],
                channels: vec![LINUX_SYSMON.into()],
                event_ids: ids.to_vec(),
                programs: Vec::new(),
            }]),
            None => no_source(
                format!("linux.{category}"),
                format!("no Linux source rampart reads gives {category} events"),
            ),
        },
        (None, Some("auditd")) => route(vec![admit(&[LINUX_AUDITD_DATASET])]),
        (None, Some("auth")) => route(vec![admit(&["linux.auth"])]),
        (None, Some("syslog")) => route(vec![admit(SYSLOG_DATASETS)]),
        (None, None) => {
            let mut every = SYSLOG_DATASETS.to_vec();
            every.extend([LINUX_AUDITD_DATASET, LINUX_SYSMON_DATASET]);
            route(vec![admit(&every)])
        }
        (None, Some(service)) => match LINUX_PROGRAMS.iter().find(|(s, _)| *s == service) {
            Some((_, programs)) => route(vec![Admit {
                datasets: SYSLOG_DATASETS.iter().map(|d| (*d).to_owned()).collect(),
                programs: programs.iter().map(|p| (*p).to_owned()).collect(),
                ..Admit::default()
            }]),
            None => Err(format!("unknown Linux service '{service}'")),
        },
    }
}

fn generic(category: Option<&str>, service: Option<&str>) -> Result<Route, String> {
    match (category, service) {
        (Some("webserver"), _) => route(vec![admit(&[
            "apache.access",
            "nginx.access",
            "web.access",
        ])]),
        (Some("proxy"), _) => route(vec![admit(&["zeek.http", "suricata.eve"])]),
        (Some("dns"), _) => route(vec![admit(&["zeek.dns", "suricata.eve"])]),
        (Some("firewall"), _) => route(vec![admit(&[
            "firewall.ufw",
            "firewall.iptables",
            "suricata.eve",
            "zeek.conn",
        ])]),
        (None, Some("apache")) => route(vec![admit(&["apache.access", "apache.error"])]),
        (None, Some("nginx")) => route(vec![admit(&["nginx.access", "nginx.error"])]),
        (None, None) => route(Vec::new()),
        (Some(category), _) => Err(format!("unknown category '{category}' without a product")),
        (None, Some(service)) => Err(format!("unknown service '{service}' without a product")),
    }
}

/// Sigma's web field names (W3C extended log format, as the webserver and
/// proxy taxonomies use them) → ECS.
const WEB_FIELDS: &[(&str, &str)] = &[
    ("c-ip", "source.ip"),
    ("s-ip", "destination.ip"),
    ("dst_ip", "destination.ip"),
    ("src_ip", "source.ip"),
    ("cs-method", "http.request.method"),
    ("cs-uri-query", "url.query"),
    ("c-uri-query", "url.query"),
    ("cs-uri-stem", "url.path"),
    ("c-uri-stem", "url.path"),
    ("cs-uri", "url.original"),
    ("c-uri", "url.original"),
    ("c-uri-extension", "url.extension"),
    ("sc-status", "http.response.status_code"),
    ("cs-user-agent", "user_agent.original"),
    ("c-useragent", "user_agent.original"),
    ("cs-referer", "http.request.referrer"),
    ("cs-referrer", "http.request.referrer"),
    ("cs-host", "url.domain"),
    ("r-dns", "url.domain"),
    ("cs-version", "http.version"),
    ("cs-username", "user.name"),
    ("cs-cookie", "http.request.cookie"),
    ("sc-bytes", "http.response.body.bytes"),
    ("s-port", "destination.port"),
    ("query", "dns.question.name"),
    ("record_type", "dns.question.type"),
    ("answer", "dns.answers.data"),
    ("dst_port", "destination.port"),
    ("src_port", "source.port"),
];

/// Windows fields that are not `EventData`, and `EventData` names that
/// differ between Sysmon and the Security log for the same meaning.
const WINDOWS_FIELDS: &[(&str, &[&str])] = &[
    ("EventID", &["event.code"]),
    ("Channel", &["winlog.channel"]),
    ("EventLog", &["winlog.channel"]),
    ("Provider_Name", &["winlog.provider_name"]),
    ("Computer", &["winlog.computer_name", "host.name"]),
    ("Security_UserID", &["winlog.user.identifier"]),
    ("EventRecordID", &["winlog.record_id"]),
    (
        "Image",
        &[
            "winlog.event_data.Image",
            "winlog.event_data.NewProcessName",
        ],
    ),
    (
        "ParentImage",
        &[
            "winlog.event_data.ParentImage",
            "winlog.event_data.ParentProcessName",
        ],
    ),
    (
        "User",
        &[
            "winlog.event_data.User",
            "winlog.event_data.SubjectUserName",
        ],
    ),
    (
        "LogonId",
        &[
            "winlog.event_data.LogonId",
            "winlog.event_data.SubjectLogonId",
        ],
    ),
    (
        "IntegrityLevel",
        &[
            "winlog.event_data.IntegrityLevel",
            "winlog.event_data.MandatoryLabel",
        ],
    ),
    (
        "ProcessId",
        &[
            "winlog.event_data.ProcessId",
            "winlog.event_data.NewProcessId",
        ],
    ),
];

/// The event fields a Sigma field name may be found in, in order of
/// preference. Names that are already rampart fields pass through.
pub fn fields_of(ls: &LogSource, field: &str) -> Vec<String> {
    let (product, category, service) = (
        ls.product.as_deref(),
        ls.category.as_deref(),
        ls.service.as_deref(),
    );
    if let Some(source) = service_source(product, category, service) {
        return service_fields(&source, field);
    }
    match product {
        Some("rpc_firewall") => windows_fields(field),
        Some("windows") => windows_fields(field),
        Some("linux") if ls.category.is_some() => windows_fields(field),
        Some("linux") if ls.service.as_deref() == Some("auditd") && !field.contains('.') => {
            vec![format!("auditd.log.{field}")]
        }
        Some("fortigate") if !field.contains('.') => vec![format!("fortinet.firewall.{field}")],
        Some("zeek") => {
            let service = ls
                .service
                .as_deref()
                .or(ls.category.as_deref())
                .unwrap_or("conn");
            let mut names = vec![format!("zeek.{service}.{field}")];
            if let Some((_, ecs)) = WEB_FIELDS.iter().find(|(f, _)| *f == field) {
                names.push((*ecs).to_owned());
            }
            names
        }
        _ => match WEB_FIELDS.iter().find(|(f, _)| *f == field) {
            Some((_, ecs)) => vec![(*ecs).to_owned()],
            None => vec![field.to_owned()],
        },
    }
}

/// Where a Sysmon-style field is found (Windows, and Sysmon for Linux).
fn windows_fields(field: &str) -> Vec<String> {
    if let Some((_, names)) = WINDOWS_FIELDS.iter().find(|(f, _)| *f == field) {
        return names.iter().map(|n| (*n).to_owned()).collect();
    }
    if field.contains('.') {
        return vec![field.to_owned()];
    }
    // Spaces are left out: the event view answers for `Process Name` as
    // `ProcessName` too.
    vec![format!("winlog.event_data.{}", field.replace(' ', ""))]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ls(product: Option<&str>, category: Option<&str>, service: Option<&str>) -> LogSource {
        LogSource {
            product: product.map(str::to_owned),
            category: category.map(str::to_owned),
            service: service.map(str::to_owned),
        }
    }

    #[test]
    fn process_creation_is_sysmon_1_or_security_4688() {
        let r = route_of(&ls(Some("windows"), Some("process_creation"), None)).unwrap();
        assert_eq!(r.admits.len(), 2);
        assert_eq!(r.admits[0].event_ids, [1]);
        assert_eq!(r.admits[1].channels, ["security"]);
        let f = fields_of(&ls(Some("windows"), None, None), "Image");
        assert_eq!(
            f,
            [
                "winlog.event_data.Image",
                "winlog.event_data.NewProcessName"
            ]
        );
        assert_eq!(
            fields_of(&ls(Some("windows"), None, None), "TargetObject"),
            ["winlog.event_data.TargetObject"]
        );
    }

    #[test]
    fn unknown_sources_are_errors_or_marked() {
        assert!(route_of(&ls(Some("windows"), Some("nonsense"), None)).is_err());
        assert!(route_of(&ls(Some("linux"), Some("nonsense"), None))
            .unwrap()
            .no_source
            .is_some());
        assert!(route_of(&ls(Some("paloalto"), None, Some("globalprotect")))
            .unwrap()
            .no_source
            .is_some());
        assert_eq!(
            route_of(&ls(Some("juniper"), None, Some("bgp")))
                .unwrap()
                .admits[0]
                .datasets,
            ["juniper.junos"]
        );
        assert_eq!(
            route_of(&ls(Some("cisco"), None, Some("aaa")))
                .unwrap()
                .admits[0]
                .datasets,
            ["cisco.ios"]
        );
        assert_eq!(
            fields_of(&ls(Some("fortigate"), None, Some("event")), "cfgpath"),
            ["fortinet.firewall.cfgpath"]
        );
        assert!(route_of(&ls(None, None, None)).unwrap().admits.is_empty());
    }

    #[test]
    fn linux_sources_route_to_sysmon_for_linux_and_auditd() {
        let r = route_of(&ls(Some("linux"), Some("process_creation"), None)).unwrap();
        assert_eq!(r.admits[0].channels, ["linux-sysmon/operational"]);
        assert_eq!(r.admits[0].event_ids, [1]);
        assert!(r.no_source.is_none());
        assert_eq!(
            fields_of(&ls(Some("linux"), Some("process_creation"), None), "Image")[0],
            "winlog.event_data.Image"
        );
        let auditd = ls(Some("linux"), None, Some("auditd"));
        assert_eq!(
            route_of(&auditd).unwrap().admits[0].datasets,
            ["linux.auditd"]
        );
        assert_eq!(fields_of(&auditd, "SYSCALL"), ["auditd.log.SYSCALL"]);
        let any = route_of(&ls(Some("linux"), None, None)).unwrap();
        assert!(any.admits[0].datasets.iter().any(|d| d == "linux.auditd"));
    }

    #[test]
    fn services_route_to_their_datasets_with_the_rules_spellings() {
        let trail = ls(Some("aws"), None, Some("cloudtrail"));
        assert_eq!(
            route_of(&trail).unwrap().admits[0].datasets,
            ["aws.cloudtrail"]
        );
        assert_eq!(
            fields_of(&trail, "eventName"),
            ["aws.cloudtrail.eventName", "eventName"]
        );
        // Log Analytics' column, the export's top-level key, then its
        // camel-case place under `properties`.
        let signin = ls(Some("azure"), None, Some("signinlogs"));
        let result = fields_of(&signin, "ResultType");
        assert_eq!(
            result[..2],
            ["azure.resultType", "azure.properties.status.errorCode"]
        );
        assert!(fields_of(&signin, "AuthenticationRequirement")
            .contains(&"azure.properties.authenticationRequirement".to_owned()));
        assert_eq!(
            fields_of(
                &ls(Some("gcp"), None, Some("gcp.audit")),
                "gcp.audit.method_name"
            )[0],
            "gcp.protoPayload.methodName"
        );
        let pim = route_of(&ls(Some("azure"), None, Some("pim"))).unwrap();
        assert!(pim.no_source.is_some());
        let mac = ls(Some("macos"), Some("process_creation"), None);
        assert_eq!(
            route_of(&mac).unwrap().admits[0].datasets,
            ["macos.process"]
        );
        assert_eq!(
            fields_of(&mac, "ParentImage")[0],
            "process.parent.executable"
        );
        let rpc = route_of(&ls(Some("rpc_firewall"), Some("application"), None)).unwrap();
        assert_eq!(rpc.admits[0].channels, ["rpcfw"]);
    }

    #[test]
    fn web_and_zeek_fields() {
        assert_eq!(
            fields_of(&ls(None, Some("webserver"), None), "cs-uri-query"),
            ["url.query"]
        );
        assert_eq!(
            fields_of(&ls(Some("zeek"), None, Some("dns")), "query")[0],
            "zeek.dns.query"
        );
        assert_eq!(
            fields_of(&ls(Some("linux"), None, Some("sshd")), "user.name"),
            ["user.name"]
        );
    }
}
