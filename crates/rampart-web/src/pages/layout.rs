//! The frame of every page: the head (style sheet and script from
//! rampart itself, nothing inline), the navigation, the main region.

use maud::{html, Markup, DOCTYPE};

use crate::filters::{range_key, View, RANGES};

/// Which entry of the navigation is the page's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Overview,
    Alerts,
    Events,
    Rules,
    None,
}

/// A whole page.
pub fn page(title: &str, nav: Nav, main: Markup) -> Markup {
    let entry = |href: &str, name: &str, this: Nav| {
        html! {
            a href=(href) aria-current=[(nav == this).then_some("page")] { (name) }
        }
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · rampart" }
                link rel="stylesheet" href="/assets/app.css";
                script src="/assets/app.js" defer {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    a.brand href="/" { "rampart" }
                    nav aria-label="Main" {
                        (entry("/", "Overview", Nav::Overview))
                        (entry("/alerts", "Alerts", Nav::Alerts))
                        (entry("/events", "Events", Nav::Events))
                        (entry("/rules", "Rules", Nav::Rules))
                    }
                }
                main #main { (main) }
            }
        }
    }
}

/// The field choosing a view's range among [`RANGES`], under `label`,
/// its first choice (`default`) the view's default.
pub fn range_field(view: &View, label: &str, default: &str) -> Markup {
    let current = view.range.as_ref().and_then(range_key);
    html! {
        div.field {
            label for="range" { (label) }
            select #range name="range" {
                option value="" selected[current.is_none()] { (default) }
                @for (key, name) in RANGES {
                    option value=(key) selected[current == Some(key)] { (name) }
                }
            }
        }
    }
}
