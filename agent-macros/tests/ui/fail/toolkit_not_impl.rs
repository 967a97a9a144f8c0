use agent_core::toolkit;

#[toolkit]
fn get_weather() {}

fn main() {}
