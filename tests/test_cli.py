"""The `subsidy` command: exact text a caseworker sees, exit codes, and byte-identical files for named fixtures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import run

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "fixtures" / "small"
BAD = Path(__file__).parent / "bad_rosters"
NAMED = ["rural-dibao-severely-disabled", "tuopin-vocational-migrant", "tekun-elderly-dies-in-october"]


@pytest.mark.parametrize("name", NAMED)
def test_named_fixture_gives_its_expected_payment_list_byte_for_byte(tmp_path: Path, name: str) -> None:
    code, _, err = run(
        "evaluate", str(SMALL / f"{name}.csv"), "--period", "2023", "--out", str(tmp_path / "o")
    )
    assert code == 0, err
    assert (tmp_path / "o" / "payments.csv").read_bytes() == (SMALL / f"{name}.expected.csv").read_bytes()


def test_evaluate_prints_the_totals_table(tmp_path: Path) -> None:
    code, out, _ = run(
        "evaluate",
        str(SMALL / "tuopin-vocational-migrant.csv"),
        "--period",
        "2023",
        "--out",
        str(tmp_path / "o"),
    )
    assert code == 0
    assert out == (
        "期间 2023  规则库 chongqing-nanchuan  读入 4 行:采用 4 行,拒绝 0 行\n"
        "项目               名称                      人数  人次  金额(元)\n"
        "dibao              最低生活保障金               0     0      0.00\n"
        "tekun              特困人员基本生活费           0     0      0.00\n"
        "disability_living  困难残疾人生活补贴           0     0      0.00\n"
        "disability_care    重度残疾人护理补贴           0     0      0.00\n"
        "medical_premium    城乡居民医保个人缴费资助     3     3    150.00\n"
        "education_aid      教育资助                     1     4   5000.00\n"
        "migrant_transport  外出务工交通补助             2     2    518.50\n"
        "合计               合计                         3     9   5668.50\n"
        "以下结果依赖假定参数(非正式公布值): dibao_standard@2023-09-01、premium_needy@2023-01-01\n"
        f"已写入 {tmp_path / 'o'}\n"
    )
    names = sorted(p.name for p in (tmp_path / "o").iterdir())
    assert names == ["manifest.json", "payments.csv", "rejects.csv", "totals.csv"]


def test_manifest_records_hashes_of_input_rules_and_every_output(tmp_path: Path) -> None:
    import hashlib

    src = SMALL / "tekun-elderly-dies-in-october.csv"
    code, _, _ = run(
        "evaluate",
        str(src),
        "--period",
        "2023-10",
        "--out",
        str(tmp_path / "o"),
        "--format",
        "csv,xlsx,parquet",
    )
    assert code == 0
    m = json.loads((tmp_path / "o" / "manifest.json").read_text(encoding="utf-8"))
    assert m["period"] == "2023-10"
    assert m["input"]["sha256"] == hashlib.sha256(src.read_bytes()).hexdigest()
    assert set(m["outputs"]) == {
        "payments.csv",
        "payments.xlsx",
        "payments.parquet",
        "totals.csv",
        "rejects.csv",
    }
    for name, sha in m["outputs"].items():
        assert hashlib.sha256((tmp_path / "o" / name).read_bytes()).hexdigest() == sha
    assert len(m["rules"]["files"]) == 10 and len(m["rules"]["content_sha256"]) == 64
    assert m["assumed_parameters"] == ["tekun_basic_living@2023-09-01"]


def test_outputs_are_byte_identical_across_runs(tmp_path: Path) -> None:
    src = str(SMALL / "rural-dibao-severely-disabled.csv")
    for d in ("a", "b"):
        assert (
            run(
                "evaluate",
                src,
                "--period",
                "2023",
                "--out",
                str(tmp_path / d),
                "--format",
                "csv,xlsx,parquet",
            )[0]
            == 0
        )
    for name in (
        "payments.csv",
        "payments.xlsx",
        "payments.parquet",
        "totals.csv",
        "rejects.csv",
        "manifest.json",
    ):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_strict_fails_on_any_rejection_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "o"
    code, _, err = run(
        "evaluate", str(BAD / "id_checksum.csv"), "--period", "2023", "--out", str(out), "--strict"
    )
    assert code == 1
    assert err == "错误: --strict: 2 行被拒绝(1 户),未生成发放名单\n"
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_without_strict_rejected_rows_are_written_out(tmp_path: Path) -> None:
    code, stdout, _ = run(
        "evaluate", str(BAD / "id_checksum.csv"), "--period", "2023", "--out", str(tmp_path / "o")
    )
    assert code == 0
    assert "读入 3 行:采用 1 行,拒绝 2 行" in stdout
    rejects = (tmp_path / "o" / "rejects.csv").read_text(encoding="utf-8").splitlines()
    assert rejects[0] == "行号,户编号,证件号码,姓名,列,值,原因代码,说明"
    assert [line.split(",")[6] for line in rejects[1:]] == ["HOUSEHOLD_REJECTED", "ID_CHECKSUM"]


def test_missing_column_is_one_line_and_exit_3(tmp_path: Path) -> None:
    bad = tmp_path / "nohead.csv"
    bad.write_text("户编号,乡镇\nH1,兴隆镇\n", encoding="utf-8")
    code, out, err = run("evaluate", str(bad), "--period", "2023", "--out", str(tmp_path / "o"))
    assert code == 3
    assert err == (
        f"错误: {bad}: 缺少必需的列: 行政村(village)、户类型(household_type)、姓名(name)、"
        "证件号码(id_number)、与户主关系(relation)\n"
    )
    assert out == "" and not (tmp_path / "o").exists()


def test_uncovered_period_is_refused_with_exit_4(tmp_path: Path) -> None:
    code, _, err = run(
        "evaluate",
        str(SMALL / "tuopin-vocational-migrant.csv"),
        "--period",
        "2027",
        "--out",
        str(tmp_path / "o"),
    )
    assert code == 4
    assert err == (
        "错误: 无法计算期间 2027: 参数 dibao_standard(dibao.yaml)在 2027-01-01 没有有效值;"
        "本规则库 chongqing-nanchuan 覆盖 2022-01-01 至 2026-12-31\n"
    )
    assert not (tmp_path / "o").exists()


def test_bad_period_text(tmp_path: Path) -> None:
    code, _, err = run(
        "evaluate",
        str(SMALL / "tuopin-vocational-migrant.csv"),
        "--period",
        "23-9",
        "--out",
        str(tmp_path / "o"),
    )
    assert code == 4
    assert err == "错误: 期间应为年份 YYYY(如 2023)或月份 YYYY-MM(如 2023-09),不是 '23-9'\n"


def test_existing_output_folder_is_not_overwritten_without_asking(tmp_path: Path) -> None:
    out = tmp_path / "o"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    src = str(SMALL / "tuopin-vocational-migrant.csv")
    code, _, err = run("evaluate", src, "--period", "2023", "--out", str(out))
    assert code == 5
    assert err == f"错误: 输出目录 {out} 已有文件;换一个目录,或加 --overwrite 覆盖\n"
    assert run("evaluate", src, "--period", "2023", "--out", str(out), "--overwrite")[0] == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "manifest.json",
        "payments.csv",
        "rejects.csv",
        "totals.csv",
    ]


def test_validate_lists_problems_with_masked_ids_and_exits_1() -> None:
    code, out, _ = run("validate", str(BAD / "id_duplicate.csv"))
    assert code == 1
    assert out == (
        "读入 3 行(2 户):采用 0 行,拒绝 3 行(2 户),问题 3 条\n"
        "行号  列        值                  原因代码            说明\n"
        "   2  证件号码  500119********0032  ID_DUPLICATE        证件号码与第 4 行重复\n"
        "   3                                HOUSEHOLD_REJECTED  同户(户编号 H001)其他行有错误或户级问题,整户不予计算\n"
        "   4  证件号码  500119********0032  ID_DUPLICATE        证件号码与第 2 行重复\n"
    )


def test_validate_clean_roster_exits_0() -> None:
    code, out, _ = run("validate", str(SMALL / "tuopin-vocational-migrant.csv"))
    assert code == 0
    assert out == "读入 4 行(1 户):采用 4 行,拒绝 0 行(0 户),问题 0 条\n"


def test_rules_show_lists_parameters_in_force_with_status() -> None:
    code, out, _ = run("rules", "show", "--date", "2023-09-01")
    assert code == 0
    lines = out.splitlines()
    assert (
        lines[0]
        == "规则库 chongqing-nanchuan(重庆市南川区 困难群众救助与惠民补贴规则库(2022—2026年)),2023-09-01 有效的参数;覆盖 2022-01-01 至 2026-12-31"
    )
    std = next(line for line in lines if " dibao_standard " in line)
    assert "城市:735.00 农村:600.00" in std and "2023-09-01" in std and "假定" in std
    tk = next(line for line in lines if " tekun_basic_living " in line)
    assert "955.00" in tk
    care = next(line for line in lines if " disability_care_grade1 " in line)
    assert "90.00" in care and "2022-10-01" in care and "正式" in care


def _shown(date: str) -> dict[str, list[str]]:
    """`rules show --date`: parameter → [value, first day in force, status, reference]."""
    code, out, _ = run("rules", "show", "--date", date)
    assert code == 0
    rows = {}
    for line in out.splitlines()[2:]:
        cells = line.split()
        rows[cells[1]] = [" ".join(cells[3:-4]), *cells[-3:]]
    assert len(rows) == 18
    return rows


@pytest.mark.parametrize(
    "date,param,value,start,status",
    [
        ("2022-01-01", "dibao_standard", "城市:636.00 农村:515.00", "2022-01-01", "假定"),
        ("2022-08-31", "dibao_standard", "城市:636.00 农村:515.00", "2022-01-01", "假定"),
        ("2022-09-01", "dibao_standard", "城市:717.00 农村:581.00", "2022-09-01", "假定"),
        ("2023-03-01", "dibao_standard", "城市:717.00 农村:581.00", "2022-09-01", "正式"),
        ("2024-08-31", "dibao_standard", "城市:735.00 农村:600.00", "2023-09-01", "正式"),
        ("2024-09-01", "dibao_standard", "城市:750.00 农村:610.00", "2024-09-01", "假定"),
        ("2025-09-01", "dibao_standard", "城市:770.00 农村:630.00", "2025-09-01", "假定"),
        ("2026-12-31", "dibao_standard", "城市:770.00 农村:630.00", "2026-01-01", "假定"),
        ("2026-06-01", "dibao_priority_addon", "城市:45.00 农村:30.00", "2026-01-01", "假定"),
        ("2022-01-01", "tekun_basic_living", "827.00", "2022-01-01", "假定"),
        ("2025-08-01", "tekun_basic_living", "975.00", "2024-09-01", "正式"),
        ("2025-09-01", "tekun_basic_living", "1001.00", "2025-09-01", "假定"),
        ("2022-09-30", "disability_living_allowance", "70.00", "2022-01-01", "正式"),
        ("2022-10-01", "disability_living_allowance", "80.00", "2022-10-01", "正式"),
        ("2026-01-01", "disability_living_allowance", "100.00", "2026-01-01", "正式"),
        ("2022-05-01", "disability_care_grade1", "80.00", "2022-01-01", "正式"),
        ("2026-01-01", "disability_care_grade1", "110.00", "2026-01-01", "正式"),
        ("2026-01-01", "disability_care_grade2", "100.00", "2026-01-01", "正式"),
        ("2022-01-01", "premium_full", "350.00", "2022-01-01", "正式"),
        ("2025-01-01", "premium_full", "400.00", "2025-01-01", "正式"),
        ("2026-01-01", "premium_full", "400.00", "2026-01-01", "假定"),
        ("2024-09-01", "edu_senior", "1150.00", "2024-09-01", "假定"),
        ("2025-03-01", "edu_vocational", "1150.00", "2024-09-01", "正式"),
        ("2025-03-01", "edu_junior_day", "312.50", "2022-01-01", "正式"),
        ("2025-09-01", "edu_junior_day", "375.00", "2025-09-01", "假定"),
        ("2026-03-01", "edu_primary_boarding", "625.00", "2025-09-01", "正式"),
        ("2026-09-01", "yulu_plan", "1500.00", "2022-01-01", "正式"),
        ("2024-12-31", "transport_flat_rate", "市外:200.00 区县外市内:50.00", "2022-01-01", "正式"),
    ],
)
def test_rules_show_any_date_in_range(date: str, param: str, value: str, start: str, status: str) -> None:
    assert _shown(date)[param][:3] == [value, start, status]


def test_rules_show_outside_the_range_has_no_values() -> None:
    code, out, _ = run("rules", "show", "--date", "2027-01-01")
    assert code == 0
    assert all("(无有效值)" in line for line in out.splitlines()[2:])


def test_rules_check() -> None:
    code, out, _ = run("rules", "check")
    assert code == 0
    assert out.startswith(
        "规则库 chongqing-nanchuan: 7 个项目, 18 条规则, 18 个参数, 8 个定义; 覆盖 2022-01-01 至 2026-12-31"
    )


def test_progress_goes_to_stderr_stage_by_stage(tmp_path: Path) -> None:
    code, out, err = run(
        "evaluate",
        str(SMALL / "tekun-elderly-dies-in-october.csv"),
        "--period",
        "2023-02",
        "--out",
        str(tmp_path / "o"),
        "--progress",
    )
    assert code == 0
    stages = [line.split("] ", 1)[1] for line in err.splitlines()]
    assert stages == ["读取名册", "校验名册", "计算 0/1", "计算 1/1", "写出结果"]
    assert "读取名册" not in out


def test_evaluate_publish_writes_the_masked_notice_list(tmp_path: Path) -> None:
    import re

    out = tmp_path / "o"
    src = SMALL / "rural-dibao-severely-disabled.csv"
    code, _, _ = run("evaluate", str(src), "--period", "2023-09", "--out", str(out), "--publish")
    assert code == 0
    published = (out / "publish" / "payments.csv").read_text(encoding="utf-8")
    assert "500119********2018" in published
    assert re.search(r"\d{17}[\dX]", published) is None
    assert (out / "publish" / "totals.csv").exists() and (out / "publish" / "payments.xlsx").exists()


@pytest.mark.parametrize("period", ["9999-12", "0000-01", "0001", "1899"])
def test_a_period_of_a_year_that_cannot_be_is_refused_in_words(tmp_path: Path, period: str) -> None:
    code, _, err = run(
        "evaluate",
        str(SMALL / "tuopin-vocational-migrant.csv"),
        "--period",
        period,
        "--out",
        str(tmp_path / "o"),
    )
    assert code == 4
    assert err == f"错误: 期间的年份应在 1900 至 9998 之间,不是 '{period}'\n"
