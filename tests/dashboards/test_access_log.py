from dashboards import access_log


def test_entries_are_appended_with_user_role_and_outcome(dash_settings):
    for allowed in (True, False):
        access_log.record(
            dash_settings,
            user="chongchuan",
            role="district",
            district="崇川区",
            action="view_lead",
            target="QZ1",
            allowed=allowed,
        )
    rows = access_log.entries(dash_settings)
    assert [(r[1], r[4], r[5], r[6]) for r in rows] == [
        ("chongchuan", "view_lead", "QZ1", True),
        ("chongchuan", "view_lead", "QZ1", False),
    ]
    assert access_log.log_path(dash_settings).parent == dash_settings.data_dir / "dashboards"
